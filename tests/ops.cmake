# Running it like an operator: the service manager's notifications, the
# units, the installed tree and the package (dist/).

# READY=1, WATCHDOG=1 and STOPPING=1 from both programs to a notify
# socket the test owns (no systemd needed); only when built with
# libsystemd (else the programs notify nothing).
if(SYSTEMD_FOUND)
	users_integration_test(test_notify gw_harness)
	add_dependencies(test_notify usersgw)
endif()

