# The two commands of the README: `make demo` and `make test`. Each sets itself up first.
.PHONY: setup demo test lint lab bench

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/evalkit run params/demo.yaml

# tests/ and the doctests of src/ (testpaths), the 25 slowest shown; two pytest-xdist workers, each
# test file kept whole on one worker (its module fixtures run once): see tests/README.md
test: setup
	.venv/bin/python -m pytest -q -n 2 --dist loadfile --durations=25

lint: setup
	.venv/bin/ruff check src tests benchmarks

lab: setup
	@bash scripts/lab.sh

bench: setup
	.venv/bin/python benchmarks/bench_scoring.py
	.venv/bin/python benchmarks/bench_batch_scale.py
	.venv/bin/python benchmarks/bench_hostile_files.py
	.venv/bin/python benchmarks/bench_batch.py   # ~16 minutes: the plain papermill loop ~13, evalkit run three times
