# The RPC dialects (gateway/gw_connect.c): the frame decoder as a unit
# (gw_frame, a library of its own without h2o) and fuzzed (its corpus
# replayed as an ordinary test); bad input over real sockets against real
# usersd and usersgw processes (test_connect).
users_unit_test(test_frame)
target_link_libraries(test_frame PRIVATE gw_frame)
users_fuzz_target(frame fuzz_frame.c gw_frame)
users_integration_test(test_connect gw_harness PkgConfig::JANSSON
	userswire)
add_dependencies(test_connect usersgw)
