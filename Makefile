.PHONY: run test bench soak lint format

run:          ## Run the service on embedded defaults (README)
	./scripts/run

test:         ## Lint and run the test suite (README)
	./scripts/test

bench:        ## Benchmarks on PostgreSQL and Redis, then the soak; writes bench/out/report.md (docs/benchmarks.md)
	./scripts/bench

soak:         ## The soak alone: SOAK_SECONDS (600) of mixed load with sockets open (docs/benchmarks.md)
	./scripts/bench soak

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .
