# The private PostgreSQL cluster of the tests: the ctest fixture "pg".
#
# pg_cluster_start (FIXTURES_SETUP pg) runs tests/pg/cluster.sh start on
# <build>/pgtest: initdb, a server on 127.0.0.1 and a free port (as nobody
# when ctest runs as root), database usersd, and the URL of it in
# ${USERS_PG_URL_FILE}. pg_cluster_stop (FIXTURES_CLEANUP pg) stops it and
# removes the directory. A test that needs the cluster:
#
#   users_pg_test(test_x)
#
# which is (appending, so that users_unit_test's variables stay):
#
#   set_property(TEST test_x APPEND PROPERTY FIXTURES_REQUIRED pg)
#   set_property(TEST test_x APPEND PROPERTY ENVIRONMENT
#       USERSD_TEST_PG_URL_FILE=${USERS_PG_URL_FILE})
#
# and, in C, a database of its own: pg_testdb_new() / pg_testdb_drop() of
# tests/pg/pg_testdb.h (link pg_testdb).
set(USERS_PG_DIR ${CMAKE_BINARY_DIR}/pgtest)
set(USERS_PG_URL_FILE ${USERS_PG_DIR}/url)

add_test(NAME pg_cluster_start
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/pg/cluster.sh start ${USERS_PG_DIR})
set_tests_properties(pg_cluster_start PROPERTIES
	FIXTURES_SETUP pg TIMEOUT 180 LABELS integration)
add_test(NAME pg_cluster_stop
	COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/pg/cluster.sh stop ${USERS_PG_DIR})
set_tests_properties(pg_cluster_stop PROPERTIES
	FIXTURES_CLEANUP pg TIMEOUT 120 LABELS integration)

function(users_pg_test name)
	set_property(TEST ${name} APPEND PROPERTY FIXTURES_REQUIRED pg)
	set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT
		USERSD_TEST_PG_URL_FILE=${USERS_PG_URL_FILE})
endfunction()

add_library(pg_testdb STATIC pg/pg_testdb.c)
target_include_directories(pg_testdb PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/pg)
target_link_libraries(pg_testdb PUBLIC PkgConfig::LIBPQ PRIVATE users_warnings)

users_unit_test(test_pg_testdb)
target_link_libraries(test_pg_testdb PRIVATE pg_testdb)
users_pg_test(test_pg_testdb)
# It needs the cluster (a process of its own): not a unit test.
set_tests_properties(test_pg_testdb PROPERTIES LABELS integration)
