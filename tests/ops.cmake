# Running it like an operator: the service manager's notifications, the
# units, the installed tree and the package (dist/).

# READY=1, WATCHDOG=1 and STOPPING=1 from both programs to a notify
# socket the test owns (no systemd needed); only when built with
# libsystemd (else the programs notify nothing).
if(SYSTEMD_FOUND)
	users_integration_test(test_notify gw_harness)
	add_dependencies(test_notify usersgw)
endif()

# The Debian package of the release_build GCC tree (its fixture): files,
# control data and scripts, the units (systemd-analyze verify), the
# unpacked usersd and usersgw answering a request, and a C program built
# against the unpacked libusersclient by pkg-config and by find_package
# (tests/dist/package_test.sh). Plain builds only, like release_build.
if(NOT USERSD_SANITIZE AND NOT USERSD_FUZZ AND NOT USERSD_TSAN)
	add_test(NAME package_test
		COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/dist/package_test.sh
			${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/release)
	set_tests_properties(package_test PROPERTIES TIMEOUT 300
		LABELS "integration;release" FIXTURES_REQUIRED release_tree)
endif()

# usersd's records of refused sign-ins and calls (--log-format json) and
# its GET /metrics (--metrics-listen).
users_integration_test(test_daemon_ops gw_harness PkgConfig::JANSSON)
add_dependencies(test_daemon_ops usersgw)

# usersctl's bash completion, made from its command table, run in bash.
add_test(NAME ctl_completion
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/ctl_completion.sh
		$<TARGET_FILE:usersctl>)
set_tests_properties(ctl_completion PROPERTIES LABELS unit)
