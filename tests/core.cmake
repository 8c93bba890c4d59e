# The daemon's core: its request decoder fuzzed, and its behaviour through
# real processes (tests/integration).
users_fuzz_target(envelope fuzz_envelope.c ud_core)

# Through a real usersd (users_integration_test: tests/CMakeLists.txt).
users_integration_test(test_authz)
users_integration_test(test_policy)
# usersctl, usersbench and usersgw over tls+tcp:// too.
users_integration_test(test_tls gw_harness)
add_dependencies(test_tls usersgw usersbench)
users_integration_test(test_rpc ud_store gw_harness PkgConfig::SQLITE ${NNG_LIB})
# usersd's own listeners (daemon/loop.c) on the wire: plain sockets that
# speak nng's framing.
users_integration_test(test_listen)
# The hop: batches against single envelopes byte for byte, a slow write
# beside reads, batches cut by a SIGKILL, an older single-call client.
# test_hop_pg: byte for byte and the older client on PostgreSQL (read
# groups; the "pg" fixture).
users_integration_test(test_hop ${NNG_LIB} PkgConfig::SQLITE
	Threads::Threads pg_testdb)
add_test(NAME test_hop_pg COMMAND test_hop pg)
set_tests_properties(test_hop_pg PROPERTIES TIMEOUT 300
	LABELS integration ENVIRONMENT "${USERS_TEST_ENV}")
users_pg_test(test_hop_pg)
# Refresh tokens: rotation, reuse, retries, logout, at rest (the SQLite
# database read beside the daemon).
users_integration_test(test_tokens ud_store Threads::Threads)
# Signing in: parallel guesses against the lockout, request ids and who
# replays them, the hash cost floor, users without a password.
# test_signin_pg: the parallel guesses on two usersd sharing one
# PostgreSQL database (the "pg" fixture).
users_integration_test(test_signin ud_store pg_testdb)
add_test(NAME test_signin_pg COMMAND test_signin pg)
set_tests_properties(test_signin_pg PROPERTIES TIMEOUT 300
	LABELS integration ENVIRONMENT "${USERS_TEST_ENV}")
users_pg_test(test_signin_pg)
# Import and export through usersctl: hashes of every scheme made by other
# tools (import_rows.py: Debian's argon2 command line, Python's crypt and
# hashlib), sign-ins and their rehash, re-runs, an interrupt and resume,
# who may import and export.
# test_import_pg: the same on PostgreSQL (the "pg" fixture).
users_integration_test(test_import pg_testdb PkgConfig::SQLITE)
target_compile_definitions(test_import PRIVATE
	USERS_TEST_SRC="${CMAKE_CURRENT_SOURCE_DIR}/integration")
set_tests_properties(test_import PROPERTIES TIMEOUT 600)
add_test(NAME test_import_pg COMMAND test_import pg)
set_tests_properties(test_import_pg PROPERTIES TIMEOUT 600
	LABELS integration ENVIRONMENT "${USERS_TEST_ENV}")
users_pg_test(test_import_pg)
# ListUsers at depth: paging by cursor while users come and go, skip and
# take, the substring filters against a scan, what total is.
users_integration_test(test_listing pg_testdb PkgConfig::SQLITE)
add_test(NAME test_listing_pg COMMAND test_listing pg)
set_tests_properties(test_listing_pg PROPERTIES TIMEOUT 300
	LABELS integration ENVIRONMENT "${USERS_TEST_ENV}")
users_pg_test(test_listing_pg)
