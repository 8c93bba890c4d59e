# usersgw end to end: a real usersd (the harness), a real usersgw on an
# ephemeral loopback port, HTTP over real sockets (tests/integration).
# One program, two tests: the routes/formats/credentials/errors, and the
# resilience scenarios (daemon stopped, killed under load and restarted).
# usersgw started in front of the harness daemon, and a small HTTP/1.1
# client: shared by the gateway tests (here and in negotiate.cmake).
add_library(gw_harness STATIC integration/gw_harness.c)
target_include_directories(gw_harness PUBLIC integration)
target_link_libraries(gw_harness PUBLIC users_harness PkgConfig::JANSSON
	PRIVATE users_warnings)

users_integration_test(test_gateway gw_harness PkgConfig::JANSSON
	Threads::Threads)
add_dependencies(test_gateway usersgw)
add_test(NAME test_gateway_resilience COMMAND test_gateway resilience)
set_tests_properties(test_gateway_resilience PROPERTIES TIMEOUT 300
	LABELS integration
	ENVIRONMENT "${USERS_TEST_ENV}")

# What a browser can be made to send: writes on GET, passwords in
# the query, cross-site requests with the cookie, SameSite, CORS.
users_integration_test(test_gateway_browser gw_harness
	PkgConfig::JANSSON)
add_dependencies(test_gateway_browser usersgw)

# One usersgw in front of two usersd: spreading, a daemon killed and
# back, /healthz and /metrics per daemon.
users_integration_test(test_gateway_multi gw_harness
	PkgConfig::JANSSON Threads::Threads)
add_dependencies(test_gateway_multi usersgw)

# What operators and retrying clients rely on: request ids and the
# access log, Idempotency-Key retries (lost answer, restarts), SIGHUP and
# SIGTERM under load.
users_integration_test(test_gateway_ops gw_harness PkgConfig::JANSSON
	PkgConfig::SQLITE Threads::Threads)
add_dependencies(test_gateway_ops usersgw)

# Two usersd on one PostgreSQL database behind one usersgw: writers
# through both, one email at once, lockout and request ids across
# daemons, a daemon killed mid-load (the "pg" fixture, tests/pg).
users_integration_test(test_pg_multi gw_harness pg_testdb
	ud_store ${NNG_LIB} PkgConfig::JANSSON Threads::Threads)
add_dependencies(test_pg_multi usersgw)
users_pg_test(test_pg_multi)

# The per-daemon /metrics series and /healthz body (label and JSON
# escaping), from a client whose daemons are not there.
users_unit_test(test_gateway_metrics)
target_link_libraries(test_gateway_metrics PRIVATE gw_server
	PkgConfig::JANSSON)

# The route matcher's method rules (no write on GET, Allow) and the
# origin rules of gw_cors.c; the request line's parsers fuzzed.
users_unit_test(test_gateway_route)
target_link_libraries(test_gateway_route PRIVATE gw_server)
users_fuzz_target(route fuzz_route.c gw_server)

# The credentials (gw_auth.c): Authorization Bearer and Basic, the
# session cookies, a JWT's subject; their readers fuzzed.
users_unit_test(test_gateway_auth)
target_link_libraries(test_gateway_auth PRIVATE gw_server)
users_fuzz_target(auth fuzz_auth.c gw_server)

# usersgw's own hop (gateway/gw_hop.c) against the hop through nng:
# byte-identical answers, and peers that do not speak the protocol.
users_integration_test(test_gateway_hop gw_harness PkgConfig::JANSSON
	PkgConfig::SQLITE Threads::Threads)
add_dependencies(test_gateway_hop usersgw)
