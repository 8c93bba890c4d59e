# Content negotiation (gateway/gw_negotiate.c): the rules driven by data
# (one file per case in tests/data/negotiate), the negotiator fuzzed (its
# corpus replayed as an ordinary test), and every route in every format end
# to end through real usersd and usersgw processes.
# gw_negotiate is a library of its own (gateway/CMakeLists.txt),
# without h2o: the unit test and the fuzz target link it alone.
users_unit_test(test_negotiate)
target_link_libraries(test_negotiate PRIVATE gw_negotiate)
users_fuzz_target(negotiate fuzz_negotiate.c gw_negotiate)
users_integration_test(test_gateway_formats gw_harness
	PkgConfig::JANSSON userswire)
add_dependencies(test_gateway_formats usersgw)
