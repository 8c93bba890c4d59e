# The RPC dialects (gateway/gw_connect.c): the frame decoder as a unit
# (gw_frame, a library of its own without h2o) and fuzzed (its corpus
# replayed as an ordinary test); bad input over real sockets against real
# usersd and usersgw processes (test_connect); and a real npm client
# (test_connect_node): @connectrpc/connect-node over the code
# @bufbuild/protoc-gen-es generates from users.proto, every method through
# Connect and gRPC-Web (about 2 s after the fixture).
users_unit_test(test_frame)
target_link_libraries(test_frame PRIVATE gw_frame)
users_fuzz_target(frame fuzz_frame.c gw_frame)
users_integration_test(test_connect gw_harness PkgConfig::JANSSON
	userswire)
add_dependencies(test_connect usersgw)

# The npm packages of tests/connect, installed by the connect_node fixture
# (npm ci into the build directory, only when missing or changed, as the
# meta_node fixture does), and the client generated from users.proto on
# every run.
set(CONNECT_NODE_DIR ${CMAKE_BINARY_DIR}/connect-node)
add_test(NAME connect_node_setup
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_connect_setup.sh
		${CMAKE_SOURCE_DIR} ${CONNECT_NODE_DIR} ${PROTOC})
set_tests_properties(connect_node_setup PROPERTIES TIMEOUT 600
	FIXTURES_SETUP connect_node LABELS integration)

add_executable(test_connect_node integration/test_connect_node.c)
target_link_libraries(test_connect_node PRIVATE gw_harness users_warnings)
set_target_properties(test_connect_node PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_dependencies(test_connect_node usersgw usersd)
add_test(NAME test_connect_node COMMAND test_connect_node ${CONNECT_NODE_DIR})
set_tests_properties(test_connect_node PROPERTIES TIMEOUT 300
	FIXTURES_REQUIRED connect_node LABELS integration
	ENVIRONMENT "${USERS_TEST_ENV}")
