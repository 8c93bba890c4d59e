# usersbench: the load generator of usersd (drives the daemon through the
# async API of libusersclient) and of usersgw (--http: HTTP/1.1 over plain
# sockets, bench_http.c). Included by client/CMakeLists.txt.
#
# The HTTP/1.1 response reader is a library of its own: the unit test and
# the fuzz target (tests/bench.cmake) link it too.
add_library(bench_http1 STATIC ${CMAKE_CURRENT_LIST_DIR}/bench_http1.c)
target_include_directories(bench_http1 PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(bench_http1 PRIVATE users_warnings)

add_executable(usersbench
	${CMAKE_CURRENT_LIST_DIR}/usersbench.c
	${CMAKE_CURRENT_LIST_DIR}/bench_http.c
	${CMAKE_CURRENT_LIST_DIR}/bench_hist.c
	${CMAKE_CURRENT_LIST_DIR}/bench_sched.c
	${CMAKE_CURRENT_LIST_DIR}/bench_sys.c)
target_include_directories(usersbench PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(usersbench PRIVATE bench_http1 usersclient usersproto
	PkgConfig::JANSSON Threads::Threads m users_warnings)
