#!/bin/sh
# release_build.sh SRC WORKDIR: the build a packager makes, with each
# compiler a distribution may use. Configures the tree as Release with GCC
# and with clang (warnings as errors, so that a warning either compiler
# raises at -O3 fails here and not in someone's package build), without
# the tests, and builds every program and library. The build directories
# stay in WORKDIR (release-gcc, release-clang): later runs are incremental,
# and a file that warns never leaves an object behind, so it is compiled
# (and fails) again on every run until fixed. The GCC build is also the
# package's (prefix /usr): tests/dist/package_test.sh packs it.
set -eu
src=$1
work=$2
mkdir -p "$work"
for cc in gcc clang; do
	dir=$work/release-$cc
	log=$work/release-$cc.log
	start=$(date +%s)
	if ! cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_C_COMPILER="$cc" -DUSERSD_WERROR=ON \
		-DUSERSD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr >"$log" 2>&1; then
		tail -n 40 "$log"
		echo "release_build: configuring with $cc failed ($log)"
		exit 1
	fi
	if ! cmake --build "$dir" -j 2 >>"$log" 2>&1; then
		grep -E 'error|warning' "$log" | head -n 40
		echo "release_build: the Release build with $cc failed ($log)"
		exit 1
	fi
	echo "release_build: $cc Release: built in $(($(date +%s) - start)) s"
done
