"""The lean reference of the timer benchmark (docs/benchmarks.md, "The lean reference").

Served only by the benchmark, which selects `bench.reference.settings`; the deployment's
settings never name it, and the Docker image leaves it out (.dockerignore).
"""
