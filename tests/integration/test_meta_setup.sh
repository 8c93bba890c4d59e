#!/bin/sh
# test_meta_setup.sh SRC NODE_DIR - the ctest fixture of the meta checks:
# the npm packages of tests/meta (typescript, @servicestack/client, an
# OpenAPI 3.1 validator, puppeteer-core for Debian's chromium) installed
# into NODE_DIR with `npm ci`, only when missing or when the lock changed,
# and the check scripts copied beside them (so they resolve the packages).
# No package here downloads a browser; scripts are not run (--ignore-scripts).
set -eu
src=$1
dir=$2

mkdir -p "$dir"
cp "$src/tests/meta/package.json" "$src/tests/meta/package-lock.json" "$dir/"
cp "$src/tests/integration/test_meta_checks.mjs" \
	"$src/tests/integration/test_meta_client.ts" \
	"$src/tests/integration/test_meta_client.mjs" "$dir/"
stamp="$dir/node_modules/.usersd-package-lock.json"
if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
	echo "meta: npm packages up to date in $dir"
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "meta: npm is missing (sh scripts/deps.sh installs it)" >&2
	exit 1
fi
echo "meta: npm ci in $dir"
(cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
cp "$dir/package-lock.json" "$stamp"
