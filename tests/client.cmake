# libusersclient and usersctl: unit tests (no daemon) and integration
# tests against the real usersd (tests/integration, with the harness).

users_unit_test(test_client_json)
target_link_libraries(test_client_json PRIVATE usersctl_core)
users_unit_test(test_client_args)
target_link_libraries(test_client_args PRIVATE usersctl_core)
# The library against an in-process fake daemon (nng REP): the wire
# envelope, deadlines, UNAVAILABLE, the async contract.
users_unit_test(test_client_lib)
target_link_libraries(test_client_lib PRIVATE usersclient)

users_integration_test(test_client Threads::Threads)
users_integration_test(test_usersctl PkgConfig::JANSSON)

# The README's policy table is usersctl's, printed from the contract.
add_test(NAME readme_policy
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/readme_policy.sh
		$<TARGET_FILE:usersctl> ${CMAKE_SOURCE_DIR}/README.md)
set_tests_properties(readme_policy PROPERTIES LABELS unit)
