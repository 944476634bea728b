# Hansa front door. Everything real lives in CMake; this file only chains
# "install what is missing -> configure -> build -> run".
#
#   make test            every test tier (unit, sim, cluster) through CTest
#   make demo            a local multi-validator network and a trade scenario
#   make demo-stop       stop the demo's nodes (SIGTERM, waits for each)
#   make build           configure and build into build/ (binaries in build/bin/)
#   make test-sanitize   the unit tier built with address + undefined sanitizers
#   make fuzz            libFuzzer targets, FUZZ_SECONDS (default 60) each
#   make bench           hansa-bench (4 TLS validators) and the etcd peer; BENCHMARKS.md
#   make format          clang-format every C file in place
#   make clean           remove build directories

BUILD      ?= build
BUILD_SAN  ?= build-sanitize
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all deps build test unit test-sanitize fuzz demo format format-check clean help bench

all: build

help:
	@awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' Makefile

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

# CI=true turns -Werror on, also in a build directory configured before.
build: deps $(BUILD)/CMakeCache.txt
	@if [ "$(CI)" = true ]; then cmake -S . -B $(BUILD) -DHANSA_WERROR=ON >/dev/null; fi
	cmake --build $(BUILD) --parallel $(JOBS)

test: build
	@scripts/run-tests.sh $(BUILD)

unit: build
	@scripts/run-tests.sh $(BUILD) -L unit

test-sanitize: deps
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DHANSA_SANITIZE=address,undefined $(CMAKE_ARGS)
	cmake --build $(BUILD_SAN) --parallel $(JOBS)
	@scripts/run-tests.sh $(BUILD_SAN) -L unit

fuzz:
	@scripts/deps.sh --fuzz
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHANSA_FUZZ=ON $(CMAKE_ARGS)
	cmake --build $(BUILD_FUZZ) --parallel $(JOBS) --target fuzz_tx fuzz_decode fuzz_request
	@scripts/run-fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

# Four validators in ./demo-net (HANSA_DEMO_DIR), started in the background,
# and a trade told step by step; make demo-stop stops them (scripts/demo.sh).
demo: build
	@scripts/demo.sh $(BUILD)

.PHONY: demo-stop
demo-stop:
	@scripts/demo-stop.sh

# Throughput and latency against the Ed25519 bound and a 3-member etcd
# (BENCHMARKS.md): a run at full speed, one at half that rate, then etcd with
# as many records of the same size at the same concurrency. BENCH_ARGS go to
# hansa-bench (e.g. --seconds 20).
BUILD_BENCH ?= build-bench
BENCH_ARGS  ?=
BENCH_CLIENTS ?= 32
bench: deps
	cmake -S . -B $(BUILD_BENCH) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)
	cmake --build $(BUILD_BENCH) --parallel $(JOBS) --target hansad hansa-bench
	@clients/bench/make-bench.sh $(BUILD_BENCH) $(BENCH_CLIENTS) $(BENCH_ARGS)

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
