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

# The harness: start/stop usersd, run commands. A library so that other
# integration tests can link it too.
add_library(users_harness STATIC integration/harness.c)
target_include_directories(users_harness PUBLIC integration unit)
target_link_libraries(users_harness PUBLIC usersclient)

# users_integration_test(name libs...): tests/integration/<name>.c run by
# ctest with USERS_BIN, like users_unit_test; builds the binaries it runs.
function(users_integration_test name)
	add_executable(${name} integration/${name}.c)
	target_link_libraries(${name} PRIVATE users_harness ${ARGN})
	set_target_properties(${name} PROPERTIES
		RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
	foreach(bin usersd usersctl)
		if(TARGET ${bin})
			add_dependencies(${name} ${bin})
		endif()
	endforeach()
	add_test(NAME ${name} COMMAND ${name})
	set_tests_properties(${name} PROPERTIES TIMEOUT 300 LABELS integration
		ENVIRONMENT "USERS_BIN=${CMAKE_BINARY_DIR}/bin;USERS_SRC=${CMAKE_SOURCE_DIR}")
endfunction()

users_integration_test(test_client Threads::Threads)
users_integration_test(test_usersctl PkgConfig::JANSSON)

# The README's policy table is usersctl's, printed from the contract.
add_test(NAME readme_policy
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/readme_policy.sh
		$<TARGET_FILE:usersctl> ${CMAKE_SOURCE_DIR}/README.md)
