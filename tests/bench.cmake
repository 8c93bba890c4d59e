# Benchmarks. Built by default, not run by ctest except for short smoke
# runs: the histogram's unit test, a one-second nng_echo, and a two-second
# usersbench against a real usersd (when both binaries are part of the
# build). The figures come from tests/bench/rpc_bench.sh BUILD_DIR.
set(BENCH_HIST_DIR ${CMAKE_SOURCE_DIR}/client)

users_unit_test(test_bench_hist ${BENCH_HIST_DIR}/bench_hist.c)
target_include_directories(test_bench_hist PRIVATE ${BENCH_HIST_DIR})
target_link_libraries(test_bench_hist PRIVATE m)

# The raw nng reference: REP echo server + REQ load in one program.
add_executable(nng_echo bench/nng_echo.c ${BENCH_HIST_DIR}/bench_hist.c)
target_include_directories(nng_echo PRIVATE ${BENCH_HIST_DIR})
target_link_libraries(nng_echo PRIVATE ${NNG_LIB} Threads::Threads m)
set_target_properties(nng_echo PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_test(NAME nng_echo_smoke
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/bench/nng_echo_smoke.sh
		$<TARGET_FILE:nng_echo>)
set_tests_properties(nng_echo_smoke PROPERTIES TIMEOUT 60 LABELS bench)

if(TARGET usersbench AND TARGET usersd)
	add_test(NAME usersbench_smoke
		COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/bench/usersbench_smoke.sh)
	set_tests_properties(usersbench_smoke PROPERTIES TIMEOUT 180
		LABELS bench
		ENVIRONMENT "USERS_BIN=${CMAKE_BINARY_DIR}/bin;USERS_SRC=${CMAKE_SOURCE_DIR}")
else()
	message(STATUS "usersbench_smoke: needs usersd and usersbench, skipped")
endif()
