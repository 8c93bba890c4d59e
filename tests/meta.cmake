# The self-describing API (issue #6): the metadata generators as units,
# then (meta_*) the pages, DTOs and OpenAPI document as usersgw serves them,
# checked by python3 -m py_compile, tsc against @servicestack/client, an
# OpenAPI 3.1 validator and a headless Chromium (Debian's).
if(TARGET gw_server)
	users_unit_test(test_meta_pages)
	target_link_libraries(test_meta_pages PRIVATE gw_server
		PkgConfig::JANSSON)
endif()
