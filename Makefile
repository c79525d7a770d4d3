# swift-optimus: the two commands of the README, and a few helpers.
#   make demo   build (release) and run the main job
#   make test   build and run the whole test suite
SWIFT ?= swift
# One OpenBLAS kernel family on every machine (unless the caller sets another): the bit-for-bit tests (golden traces,
# resumed training, reconstructions) hold only with the same BLAS kernels, and some machines' environments set
# none, so the project sets it.
export OPENBLAS_CORETYPE ?= Haswell

.PHONY: help deps demo test build release bench mpi-check evaluate evaluate-quick reconstruction ledger checkpoints-readme clean

help:
	@echo "swift-optimus: make TARGET"
	@echo "  demo            the main job: classical and learned optimizers side by side on a few benchmark problems"
	@echo "  test            the whole test suite (Swift Testing, and the Python client's tests in .venv)"
	@echo "  evaluate        the paper's Section 5.1 benchmark, report and README results (about 10 min on 2 cores)"
	@echo "  evaluate-quick  a few small problems end to end, in seconds"
	@echo "  reconstruction  the motion reconstruction tables and figures in results/reconstruction (reuses finished runs)"
	@echo "  ledger          training/README.md and checkpoints/README.md from the runs' files (checks every shipped θ's lineage)"
	@echo "  bench           speed benchmarks (the Benchmarks/ package) beside scipy"
	@echo "  mpi-check       the MPI meta-trainer against the single-process one (installs OpenMPI)"
	@echo "  release, build  the release tool (.build/release/optimus), the debug build with tests"
	@echo "  clean           remove the build folders"

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

# The physics reconstruction experiments (Tables 1 and 4 and Fig. 6 analogues, 3 observation seeds) into
# results/reconstruction/README.md; resumable: runs whose result.json still matches are reused.
reconstruction: release
	python3 scripts/reconstruction_results.py --seeds 0,1,2 --reuse

# The training ledger (every run; each shipped checkpoint's chain of runs, checked on the weights' bytes) and the shipped
# checkpoints' README, from the runs' own files.
ledger: checkpoints-readme

checkpoints-readme:
	python3 scripts/training_ledger.py >/dev/null
	python3 scripts/checkpoints_readme.py training/adafactor-mlp-secant training/optimus-small-secant-lr3e-4 \
	    --heldout checkpoints/heldout.json --note checkpoints/notes.md

build: deps
	$(SWIFT) build --build-tests

# The Python tests run in a project-local virtual environment (.venv, made by scripts/python-env.sh from the system's
# python3; it installs python3-venv with apt where missing). XCTest is disabled: every test is Swift Testing.
test: build
	python3 scripts/module_graph.py --check
	OPTIMUS_BIN=$(CURDIR)/.build/debug/optimus "$$(scripts/python-env.sh)" -m pytest -q python/tests
	$(SWIFT) test --skip-build --disable-xctest

# Benchmarks live in their own package so the library's build never pays for them.
# BFGS / L-BFGS seconds per iteration at d = 1000 beside scipy's (same problems, same starts, 1 BLAS thread each).
bench: deps
	cd Benchmarks && $(SWIFT) build -c release
	mkdir -p .build
	"$$(scripts/python-env.sh)" scripts/scipy_bfgs_benchmark.py --dimensions 1000 --json .build/scipy-bfgs.json
	Benchmarks/.build/release/optimus-bench --dimensions 1000 --scipy .build/scipy-bfgs.json
	Benchmarks/.build/release/optimus-bench learned
	Benchmarks/.build/release/optimus-bench physics
	$(SWIFT) build -c release --product optimus
	OPTIMUS_BIN=$(CURDIR)/.build/release/optimus "$$(scripts/python-env.sh)" python/benchmarks/roundtrip.py
	Benchmarks/jax/side_by_side.sh || echo "bench: the JAX/XLA side by side did not run (exit $$?, reason above); the other results stand"

# The MPI equivalence check (installs OpenMPI; not part of the default build).
mpi-check: deps
	scripts/mpi-check.sh

clean:
	rm -rf .build Benchmarks/.build .venv
