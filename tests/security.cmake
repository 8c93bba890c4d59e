# Security primitives (daemon/auth): passwords, tokens and their cache,
# the lockout table, the replay table, the request log's boxes.
foreach(t test_agetable test_password test_jwt test_lockout test_replay test_seal
		test_token_cache)
	users_unit_test(${t})
	target_link_libraries(${t} PRIVATE ud_auth)
endforeach()

users_fuzz_target(jwt fuzz_jwt.c ud_auth)
# Stored password hashes of every scheme (imported users).
users_fuzz_target(password_hash fuzz_password_hash.c ud_auth)
