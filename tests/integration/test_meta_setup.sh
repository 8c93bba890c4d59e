#!/bin/sh
# test_meta_setup.sh SRC NODE_DIR - the ctest fixture of the meta checks:
# the npm packages of tests/meta (typescript, @servicestack/client, an
# OpenAPI 3.1 validator, puppeteer-core for Debian's chromium) installed
# into NODE_DIR (npm_setup.sh: `npm ci`, only when missing or when the lock
# changed), and the check scripts copied beside them (so they resolve the
# packages). No package here downloads a browser.
set -eu
src=$1
dir=$2

sh "$src/tests/integration/npm_setup.sh" "$src/tests/meta" "$dir"
cp "$src/tests/integration/test_meta_checks.mjs" \
	"$src/tests/integration/test_meta_client.ts" \
	"$src/tests/integration/test_meta_client.mjs" "$dir/"
