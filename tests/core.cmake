# The daemon's core: its request decoder fuzzed, and its behaviour through
# real processes (tests/integration).
users_fuzz_target(envelope fuzz_envelope.c ud_core)

users_unit_test(test_token_cache)
target_link_libraries(test_token_cache PRIVATE ud_core)

# Through a real usersd (the harness and users_integration_test come from
# client.cmake).
if(COMMAND users_integration_test)
	users_integration_test(test_authz)
	users_integration_test(test_tls)
	users_integration_test(test_rpc ud_store ${NNG_LIB})
	# Signing in: the hash cost floor and no rehash down.
	users_integration_test(test_signin ud_store)
endif()
