# What a packager's build needs: Release with GCC and with clang, warnings
# as errors (tests/release/release_build.sh), in scratch build directories
# in this build's release/ folder, kept between runs (a rerun builds what
# changed). Registered in the plain build only: the sanitizer builds of
# `make test` would build the same twice more.
if(NOT USERSD_SANITIZE AND NOT USERSD_FUZZ AND NOT USERSD_TSAN)
	add_test(NAME release_build
		COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/release/release_build.sh
			${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/release)
	set_tests_properties(release_build PROPERTIES TIMEOUT 1200
		LABELS "release;slow" FIXTURES_SETUP release_tree)
endif()
