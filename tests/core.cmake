# The daemon's core: its request decoder fuzzed, and its behaviour through
# real processes (tests/integration).
users_fuzz_target(envelope fuzz_envelope.c ud_core)

users_unit_test(test_token_cache)
target_link_libraries(test_token_cache PRIVATE ud_core)

# Through a real usersd (the harness and users_integration_test come from
# client.cmake).
if(COMMAND users_integration_test)
	users_integration_test(test_authz)
	users_integration_test(test_policy)
	# usersctl, usersbench and usersgw over tls+tcp:// too.
	if(TARGET gw_harness)
		users_integration_test(test_tls gw_harness)
		add_dependencies(test_tls usersgw)
		if(TARGET usersbench)
			add_dependencies(test_tls usersbench)
		endif()
	endif()
	users_integration_test(test_rpc ud_store ${NNG_LIB})
	# Refresh tokens: rotation, reuse, retries, logout (the SQLite
	# database read beside the daemon).
	users_integration_test(test_tokens ud_store Threads::Threads)
endif()
