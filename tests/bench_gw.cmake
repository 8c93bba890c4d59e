# The gateway benchmark's two reference servers (tests/bench/run compares
# usersgw with them): h2o_bare, a bare h2o server answering a fixed body,
# and skeleton, h2o -> nng ipc -> an echo server -> h2o with no work.
# Built into <build>/tests; ctest runs a short smoke test of each (start,
# a few requests with curl on 127.0.0.1, exit on SIGTERM).
pkg_check_modules(BENCH_GW_H2O REQUIRED IMPORTED_TARGET libh2o-evloop)

add_library(bench_gw_skel STATIC bench/skel_server.c)
target_compile_definitions(bench_gw_skel PUBLIC H2O_USE_LIBUV=0)
target_include_directories(bench_gw_skel PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/bench)
target_link_libraries(bench_gw_skel PUBLIC PkgConfig::BENCH_GW_H2O ssl crypto
	Threads::Threads usersproto PRIVATE users_warnings)

add_executable(h2o_bare bench/h2o_bare.c)
target_link_libraries(h2o_bare PRIVATE bench_gw_skel)

add_executable(skeleton bench/skeleton.c bench/skel_echo.c
	${CMAKE_SOURCE_DIR}/client/bench_sys.c)
target_include_directories(skeleton PRIVATE ${CMAKE_SOURCE_DIR}/client)
target_link_libraries(skeleton PRIVATE bench_gw_skel ${NNG_LIB})

set_target_properties(h2o_bare skeleton PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

find_program(BENCH_GW_CURL curl REQUIRED)
add_test(NAME bench_gw_refs_smoke
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/bench/skel_smoke.sh
		$<TARGET_FILE:h2o_bare> $<TARGET_FILE:skeleton>)
set_tests_properties(bench_gw_refs_smoke PROPERTIES TIMEOUT 90 LABELS bench)
