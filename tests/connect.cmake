# The RPC dialects (gateway/gw_connect.c): the frame decoder as a unit
# (gw_frame, a library of its own without h2o) and fuzzed (its corpus
# replayed as an ordinary test).
users_unit_test(test_frame)
target_link_libraries(test_frame PRIVATE gw_frame)
users_fuzz_target(frame fuzz_frame.c gw_frame)
