# usersgw end to end: a real usersd (the harness), a real usersgw on an
# ephemeral loopback port, HTTP over real sockets (tests/integration).
if(TARGET usersgw AND COMMAND users_integration_test)
	users_integration_test(test_gateway PkgConfig::JANSSON Threads::Threads)
	add_dependencies(test_gateway usersgw)
endif()
