# swift-optimus: the two commands of the README, and a few helpers.
#   make demo   build (release) and run the main job
#   make test   build and run the whole test suite
SWIFT ?= swift

.PHONY: deps demo test build release bench mpi-check evaluate evaluate-quick clean

deps:
	@scripts/install-deps.sh

release: deps
	$(SWIFT) build -c release --product optimus

demo: release
	.build/release/optimus demo

# The paper's Section 5.1 benchmark with the shipped checkpoints (< 60 min on 2 cores; resumable: run it again after an
# interruption), then the report and the README's results section.
evaluate: release
	.build/release/optimus evaluate --suite paper --output results/paper
	.build/release/optimus report results/paper --readme README.md
	gzip -9 -k -f results/paper/*.jsonl   # the records are committed compressed; the report reads either

evaluate-quick: release
	.build/release/optimus evaluate --suite quick --output .build/results-quick
	.build/release/optimus report .build/results-quick

build: deps
	$(SWIFT) build --build-tests

PYTHON ?= python3

test: build
	$(PYTHON) -m pip install -q --disable-pip-version-check -r tests/python/requirements.txt 2>/dev/null \
	  || $(PYTHON) -m pip install -q --disable-pip-version-check --root-user-action=ignore -r tests/python/requirements.txt
	OPTIMUS_BIN=$(CURDIR)/.build/debug/optimus $(PYTHON) -m pytest -q tests/python python/tests
	$(SWIFT) test --skip-build

# Benchmarks live in their own package so the library's build never pays for them.
# BFGS / L-BFGS seconds per iteration at d = 1000 beside scipy's (same problems, same starts, 1 BLAS thread each).
bench: deps
	cd Benchmarks && $(SWIFT) build -c release
	mkdir -p .build
	python3 scripts/scipy_bfgs_benchmark.py --dimensions 1000 --json .build/scipy-bfgs.json
	Benchmarks/.build/release/optimus-bench --dimensions 1000 --scipy .build/scipy-bfgs.json
	Benchmarks/.build/release/optimus-bench learned
	Benchmarks/.build/release/optimus-bench physics
	$(SWIFT) build -c release --product optimus
	OPTIMUS_BIN=$(CURDIR)/.build/release/optimus python3 python/benchmarks/roundtrip.py

# The MPI equivalence check (installs OpenMPI; not part of the default build).
mpi-check: deps
	scripts/mpi-check.sh

clean:
	rm -rf .build Benchmarks/.build
