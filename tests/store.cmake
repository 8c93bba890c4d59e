# The store: one suite (tests/unit/test_store.c) run for each backend.
# test_store: SQLite, in a temporary directory. test_store_pg: PostgreSQL,
# a fresh database per test on the cluster of the fixture "pg"
# (tests/pg.cmake); it fails, never skips, without the cluster.
users_unit_test(test_store)
target_link_libraries(test_store PRIVATE ud_store pg_testdb)

add_test(NAME test_store_pg COMMAND test_store pg)
set_tests_properties(test_store_pg PROPERTIES TIMEOUT 300
	FIXTURES_REQUIRED pg LABELS integration
	ENVIRONMENT "USERSD_TEST_PG_URL_FILE=${USERS_PG_URL_FILE};USERSD_TEST_REQUIRE_PG=1")
