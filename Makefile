.PHONY: run test bench lint format

run:          ## Run the service on embedded defaults (README)
	./scripts/run

test:         ## Lint and run the test suite (README)
	./scripts/test

bench:        ## Benchmarks on PostgreSQL and Redis; prints figures (docs/benchmarks.md)
	./scripts/bench

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .
