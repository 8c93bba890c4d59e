# Security primitives: passwords, tokens, lockout, replay table.
foreach(t test_password test_jwt test_lockout test_replay)
	if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/${t}.c)
		users_unit_test(${t})
		target_link_libraries(${t} PRIVATE ud_security)
	endif()
endforeach()

if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_jwt.c)
	users_fuzz_target(jwt fuzz_jwt.c ud_security)
endif()
