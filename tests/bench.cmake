# Benchmarks. Built by default, not run by ctest except for short smoke
# runs: the histogram's, the open-loop schedule's and the HTTP reader's
# unit tests, a one-second nng_echo, a two-second usersbench against a
# real usersd, and usersbench's open loop and HTTP mode. The figures come from tests/bench/rpc_bench.sh BUILD_DIR.
set(BENCH_HIST_DIR ${CMAKE_SOURCE_DIR}/client)

users_unit_test(test_bench_hist ${BENCH_HIST_DIR}/bench_hist.c)
target_include_directories(test_bench_hist PRIVATE ${BENCH_HIST_DIR})
target_link_libraries(test_bench_hist PRIVATE m)

# The open-loop schedule of usersbench --rate (its arithmetic only).
users_unit_test(test_bench_sched ${BENCH_HIST_DIR}/bench_sched.c
	${BENCH_HIST_DIR}/bench_hist.c)
target_include_directories(test_bench_sched PRIVATE ${BENCH_HIST_DIR})
target_link_libraries(test_bench_sched PRIVATE m)

# usersbench --http's response reader, and its fuzz target.
users_unit_test(test_bench_http1)
target_link_libraries(test_bench_http1 PRIVATE bench_http1)
users_fuzz_target(http1 fuzz_http1.c bench_http1)

# The raw nng reference: REP echo server + REQ load in one program.
add_executable(nng_echo bench/nng_echo.c ${BENCH_HIST_DIR}/bench_hist.c
	${BENCH_HIST_DIR}/bench_sys.c)
target_include_directories(nng_echo PRIVATE ${BENCH_HIST_DIR})
target_link_libraries(nng_echo PRIVATE usersproto ${NNG_LIB} Threads::Threads
	m users_warnings)
set_target_properties(nng_echo PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_test(NAME nng_echo_smoke
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/bench/nng_echo_smoke.sh
		$<TARGET_FILE:nng_echo>)
set_tests_properties(nng_echo_smoke PROPERTIES TIMEOUT 60 LABELS bench)

add_test(NAME usersbench_smoke
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/bench/usersbench_smoke.sh)
set_tests_properties(usersbench_smoke PROPERTIES TIMEOUT 180 LABELS bench
	ENVIRONMENT "${USERS_TEST_ENV}")

# usersbench's open loop over RPC, and its HTTP mode against a real
# usersgw: the outputs' shape (JSON, .hgrm), the thresholds' exit status,
# falling behind, Ctrl-C. About 15 s each.
add_test(NAME usersbench_open_smoke
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/bench/usersbench_modes_smoke.sh rpc)
add_test(NAME usersbench_http_smoke
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/bench/usersbench_modes_smoke.sh http)
set_tests_properties(usersbench_open_smoke usersbench_http_smoke PROPERTIES
	TIMEOUT 240 LABELS bench ENVIRONMENT "${USERS_TEST_ENV}")

# The store's own figures (tests/bench/store_bench.c): writes by many
# threads, queued by one, point reads; SQLite or a PostgreSQL URL. A short
# smoke run here.
add_executable(store_bench bench/store_bench.c)
target_link_libraries(store_bench PRIVATE ud_store Threads::Threads
	users_warnings)
set_target_properties(store_bench PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_test(NAME store_bench_smoke
	COMMAND store_bench --threads 4 --per 20 --reads 1000)
set_tests_properties(store_bench_smoke PROPERTIES TIMEOUT 60 LABELS bench)

# The soak (tests/bench/soak, outside ctest): REST load through usersgw for
# minutes while usersd is SIGKILLed and started again; every acknowledged
# write checked at the end. Built here so that it never rots.
add_executable(soak bench/soak.c)
target_link_libraries(soak PRIVATE gw_harness bench_http1 usersproto
	${NNG_LIB} PkgConfig::JANSSON Threads::Threads users_warnings)
set_target_properties(soak PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

# tests/bench/scale's client: a store of N users by ImportUsers, then GET
# and ListUsers at depth (not run by ctest).
add_executable(scale_bench bench/scale_bench.c)
target_link_libraries(scale_bench PRIVATE usersclient Threads::Threads
	users_warnings)
set_target_properties(scale_bench PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
