# The two commands, and a few more for developers. Everything else lives in
# CMake and scripts/.
#   make run        install what is missing, build, start usersd + usersgw
#   make test       install what is missing, build three times (plain,
#                   ASan+UBSan with the fuzz targets, ThreadSanitizer), run
#                   the whole suite in the first two and the threaded tests
#                   in the third
#   make check      the unit tests of the plain build (ctest -L unit): the
#                   quick loop while editing
#   make test-tsan  the ThreadSanitizer part of make test alone: the tests
#                   whose threads meet (nng callbacks, h2o loops, the
#                   store's writer)
#   make deb        the Debian package (Release, prefix /usr, CPack) in
#                   build-deb/: usersd_VERSION_ARCH.deb
# Warnings are errors in every build made here; a packager's plain cmake
# build keeps them warnings.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_DEB  ?= build-deb
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_DEV  = -DUSERSD_WERROR=ON

.PHONY: all deps build build-asan build-tsan run test test-plain test-asan \
	test-tsan check clean format deb

all: build

deps:
	@sh scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_DEV)
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug $(CMAKE_DEV) \
		-DUSERSD_SANITIZE=ON -DCMAKE_C_COMPILER=clang -DUSERSD_FUZZ=ON
	cmake --build $(BUILD_ASAN) -j $(JOBS)

build-tsan: deps
	cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=Debug $(CMAKE_DEV) \
		-DUSERSD_TSAN=ON -DCMAKE_C_COMPILER=clang
	cmake --build $(BUILD_TSAN) -j $(JOBS)

run: build
	@sh scripts/run.sh $(BUILD)

test-plain: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS)

test: test-plain test-asan test-tsan

check: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L unit

# The threaded parts: the client library's async calls, the gateway's loops
# meeting nng callbacks, the daemon's pools and writer, over real sockets;
# usersd's metrics listener reading the counters the calls write.
TSAN_TESTS = test_client_lib|test_client|test_hop|test_listen|test_gateway|test_gateway_multi|test_gateway_hop|test_rpc|test_store|test_lockout|test_replay|test_token_cache|test_agetable|test_daemon_ops
test-tsan: build-tsan
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	ctest --test-dir $(BUILD_TSAN) --output-on-failure -j $(JOBS) \
		-R '^($(TSAN_TESTS))$$'

# A packager's build: warnings stay warnings, no tests.
deb: deps
	cmake -S . -B $(BUILD_DEB) -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_INSTALL_PREFIX=/usr -DUSERSD_TESTS=OFF
	cmake --build $(BUILD_DEB) -j $(JOBS)
	cd $(BUILD_DEB) && cpack -G DEB
	@ls $(BUILD_DEB)/usersd_*.deb

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_DEB)
