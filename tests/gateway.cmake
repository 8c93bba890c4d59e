# usersgw end to end: a real usersd (the harness), a real usersgw on an
# ephemeral loopback port, HTTP over real sockets (tests/integration).
# One program, two tests: the routes/formats/credentials/errors, and the
# resilience scenarios (daemon stopped, killed under load and restarted).
if(TARGET usersgw AND COMMAND users_integration_test)
	users_integration_test(test_gateway PkgConfig::JANSSON Threads::Threads)
	add_dependencies(test_gateway usersgw)
	add_test(NAME test_gateway_resilience COMMAND test_gateway resilience)
	set_tests_properties(test_gateway_resilience PROPERTIES TIMEOUT 300
		LABELS integration
		ENVIRONMENT "USERS_BIN=${CMAKE_BINARY_DIR}/bin;USERS_SRC=${CMAKE_SOURCE_DIR}")
endif()
