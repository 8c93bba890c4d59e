# The self-describing API (docs/wire-formats.md, section 12): the metadata
# generators as units (the seed pages whole, Swift and Dart golden files),
# then (meta_*) the pages, DTOs and OpenAPI document as usersgw serves them:
# the Options header's round trip, TypeScript and JavaScript run with
# @servicestack/client against the gateway, C#, Java, Kotlin and Python
# compiled or type-checked (test_meta_langs.sh: mcs, javac and kotlinc with
# Gson, mypy; about 20 s, kotlinc's start most of it), the first-name edit
# every language's PatchUser sends, an OpenAPI 3.1 validator and a headless
# Chromium (Debian's).
users_unit_test(test_meta_pages)
target_link_libraries(test_meta_pages PRIVATE gw_meta codec_gen
	PkgConfig::JANSSON)

# End to end: usersd + usersgw serving the pages, DTOs and OpenAPI; the node
# checks use the npm packages of tests/meta, installed by the meta_node
# fixture (npm ci into the build directory, only when missing or changed).
set(META_NODE_DIR ${CMAKE_BINARY_DIR}/meta-node)
set(META_OUT_DIR ${CMAKE_BINARY_DIR}/meta)
add_test(NAME meta_node_setup
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_meta_setup.sh
		${CMAKE_SOURCE_DIR} ${META_NODE_DIR})
set_tests_properties(meta_node_setup PROPERTIES TIMEOUT 600
	FIXTURES_SETUP meta_node LABELS integration)

add_executable(test_meta_gw integration/test_meta_gw.c)
target_link_libraries(test_meta_gw PRIVATE gw_harness)
set_target_properties(test_meta_gw PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_dependencies(test_meta_gw usersgw)
add_dependencies(test_meta_gw usersd)
add_test(NAME test_meta_gw
	COMMAND test_meta_gw ${META_NODE_DIR} ${META_OUT_DIR})
set_tests_properties(test_meta_gw PROPERTIES TIMEOUT 300
	FIXTURES_REQUIRED meta_node LABELS integration
	ENVIRONMENT "${USERS_TEST_ENV}")

# One source for "required": the fields /openapi.json and the pages call
# required are exactly those a real usersd refuses with NotEmpty.
users_integration_test(test_required gw_meta PkgConfig::JANSSON)
