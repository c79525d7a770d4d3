# swift-optimus: the two commands of the README, and a few helpers.
#   make demo   build (release) and run the main job
#   make test   build and run the whole test suite
SWIFT ?= swift

.PHONY: deps demo test build release bench clean

deps:
	@scripts/install-deps.sh

release: deps
	$(SWIFT) build -c release --product optimus

demo: release
	.build/release/optimus demo

build: deps
	$(SWIFT) build --build-tests

test: build
	$(SWIFT) test --skip-build

# Benchmarks live in their own package so the library's build never pays for them.
bench: deps
	cd Benchmarks && $(SWIFT) build -c release && .build/release/optimus-bench

clean:
	rm -rf .build Benchmarks/.build
