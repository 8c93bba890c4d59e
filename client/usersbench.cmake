# usersbench: the load generator of usersd (drives the daemon through the
# async API of libusersclient). Included by client/CMakeLists.txt.
add_executable(usersbench
	${CMAKE_CURRENT_LIST_DIR}/usersbench.c
	${CMAKE_CURRENT_LIST_DIR}/bench_hist.c
	${CMAKE_CURRENT_LIST_DIR}/bench_sys.c)
target_include_directories(usersbench PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(usersbench PRIVATE usersclient usersproto
	PkgConfig::JANSSON Threads::Threads m users_warnings)
