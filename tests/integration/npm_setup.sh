#!/bin/sh
# npm_setup.sh PKG_DIR NODE_DIR - the npm packages of PKG_DIR (its
# package.json and package-lock.json) installed into NODE_DIR with `npm ci`,
# only when missing or when the lock changed. Scripts are not run
# (--ignore-scripts): no package downloads anything of its own. What the
# ctest fixtures of the node checks share (test_meta_setup.sh,
# test_connect_setup.sh).
set -eu
pkg=$1
dir=$2

mkdir -p "$dir"
cp "$pkg/package.json" "$pkg/package-lock.json" "$dir/"
stamp="$dir/node_modules/.usersd-package-lock.json"
if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
	echo "npm: packages up to date in $dir"
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "npm: npm is missing (sh scripts/deps.sh installs it)" >&2
	exit 1
fi
echo "npm: npm ci in $dir"
(cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
cp "$dir/package-lock.json" "$stamp"
