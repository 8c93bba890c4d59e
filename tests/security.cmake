# Security primitives: passwords, tokens, lockout, replay table.
foreach(t test_password test_jwt test_lockout test_replay test_seal)
	if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/${t}.c)
		users_unit_test(${t})
		target_link_libraries(${t} PRIVATE ud_security)
	endif()
endforeach()

if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_jwt.c)
	users_fuzz_target(jwt fuzz_jwt.c ud_security)
endif()

# libFuzzer only sees coverage of code built with the fuzzer's
# instrumentation: without it the fuzz target is blind inside ud_security.
# (The harness in tests/CMakeLists.txt instruments only the target's own
# source.) The sanitizer runtime linked into every binary of such a build
# provides the coverage hooks for the non-fuzz programs too.
if(USERSD_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang" AND TARGET ud_security)
	target_compile_options(ud_security PRIVATE -fsanitize=fuzzer-no-link)
endif()
