# Thin wrapper: the real work lives in scripts/ and CMake. `make run` and `make test` are all a new user needs.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)
# Tests mostly wait on blocks and child processes: twice as many ctest jobs as cores (heavy tests take 2 slots,
# tests/functional/CMakeLists.txt).
TEST_JOBS ?= $(shell echo $$(( $(JOBS) * 2 )))
PREFIX ?= /usr/local
export PATH := $(shell go env GOPATH 2>/dev/null)/bin:$(PATH)

.PHONY: setup configure build install run test unit functional bench format clean

setup:
	bash scripts/setup

configure: setup
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then cmake --preset $(PRESET); fi

build: configure
	@start=$$(date +%s); cmake --build $(BUILD_DIR) -j $(JOBS) && echo "build: done in $$(($$(date +%s) - start)) s"

# Executables are built into $(BUILD_DIR)/bin; install copies inferenced, dapi, mlnode and the nginx template
# (share/inference/nginx) under PREFIX, e.g. `make install PREFIX=$$HOME/inference`.
install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# The local network needs only the three executables (README "make run"); ARGS passes options, e.g.
# `make run ARGS="--validators 4"`.
run: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target inferenced dapi mlnode
	bash scripts/localnet run --build-dir $(BUILD_DIR) $(ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(TEST_JOBS) --timeout 1500

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

functional: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(TEST_JOBS) -L functional

bench: build
	bash bench/run_all.sh $(BUILD_DIR)

format:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf build
