# The two commands. Everything else lives in CMake and scripts/.
#   make run   install what is missing, build, start usersd (+ usersgw)
#   make test  install what is missing, build twice (plain and ASan+UBSan),
#              run the whole suite in both
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build build-asan run test test-plain test-asan clean format

all: build

deps:
	@sh scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DUSERSD_SANITIZE=ON \
		-DCMAKE_C_COMPILER=clang -DUSERSD_FUZZ=ON
	cmake --build $(BUILD_ASAN) -j $(JOBS)

run: build
	@sh scripts/run.sh $(BUILD)

test-plain: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS)

test: test-plain test-asan

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
