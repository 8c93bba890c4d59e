#!/bin/sh
# Installs the Debian packages usersd needs, and only those that are missing.
# libsystemd-dev: sd_notify for the Type=notify units; help2man: the man
# pages from --help. The last line: the compilers and checkers the tests
# run over the DTO files of /types (C#, Java, Kotlin with Gson, Python's
# mypy).
# Idempotent: a machine that has everything runs no apt-get at all.
set -eu

pkgs="build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
protobuf-c-compiler libprotobuf-c-dev protobuf-compiler libprotobuf-dev
libnng-dev libmbedtls-dev libh2o-evloop-dev libssl-dev libsqlite3-dev
libargon2-dev libcrypt-dev argon2 libjansson-dev libxml2-dev python3 curl wrk
openssl chromium nodejs libpq-dev postgresql libsystemd-dev help2man
mono-mcs default-jdk-headless kotlin libgoogle-gson-java mypy"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

# npm: Debian's package, unless the nodejs installed brings its own (the
# metadata checks run tsc, an OpenAPI validator and puppeteer-core with it).
if ! command -v npm >/dev/null 2>&1; then
	missing="$missing npm"
fi

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
