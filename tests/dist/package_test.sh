#!/bin/sh
# package_test.sh SRC WORK: the Debian package as an operator and a C
# programmer meet it. Packs the Release build of release_build.sh
# (WORK/release-gcc, prefix /usr) with CPack, checks the package's files,
# control data and maintainer scripts, unpacks it into a scratch root
# (dpkg -x: nothing is installed on this machine, no user is created),
# checks the units with systemd-analyze, then runs the unpacked usersd and
# usersgw against each other (the shipped configuration files, the
# paths overridden by flags) and answers one REST request, and builds a
# small C program against the unpacked libusersclient twice, through
# pkg-config and through find_package(usersclient), each of which signs in
# and reads a user from that usersd.
set -eu
src=$1
work=$2
tree=$work/release-gcc
pkg=$work/pkg
root=$work/root
run=$(mktemp -d /tmp/package_test.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$run"
}
trap cleanup EXIT
fail() {
	echo "package_test: $*" >&2
	exit 1
}
# wait_for FILE PATTERN: polls FILE (a log) for PATTERN, 10 s at most.
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 1000 ] || { cat "$1" >&2; fail "no \"$2\" in $1"; }
		sleep 0.01
	done
}

# 1. The package.
rm -rf "$pkg" "$root"
mkdir -p "$pkg" "$root"
(cd "$pkg" && cpack -G DEB --config "$tree/CPackConfig.cmake" >cpack.log 2>&1) ||
	{ cat "$pkg/cpack.log"; fail "cpack failed"; }
deb=$(ls "$pkg"/usersd_*.deb)
dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$run/files"
multiarch=$(gcc -print-multiarch)
for f in /usr/bin/usersd /usr/bin/usersgw /usr/bin/usersctl \
	/usr/bin/usersbench \
	"/usr/lib/$multiarch/libusersclient.so.0.1.0" \
	"/usr/lib/$multiarch/libusersclient.so.1" \
	"/usr/lib/$multiarch/libusersclient.so" \
	"/usr/lib/$multiarch/pkgconfig/usersclient.pc" \
	"/usr/lib/$multiarch/cmake/usersclient/usersclientConfig.cmake" \
	/usr/include/usersclient/usersclient.h \
	/usr/include/usersclient/users.pb-c.h \
	/usr/share/usersd/proto/users.proto \
	/usr/lib/systemd/system/usersd.service \
	/usr/lib/systemd/system/usersgw.service \
	/etc/usersd/usersd.conf /etc/usersd/usersgw.conf \
	/usr/share/man/man8/usersd.8.gz /usr/share/man/man8/usersgw.8.gz \
	/usr/share/man/man1/usersctl.1.gz /usr/share/man/man1/usersbench.1.gz; do
	grep -qx "$f" "$run/files" || fail "the package lacks $f"
done
# Nothing under /var or /run: systemd makes those directories.
if grep -E '^/(var|run)/.' "$run/files"; then
	fail "the package ships files under /var or /run"
fi
dpkg-deb --field "$deb" Depends | grep -q adduser || fail "Depends: no adduser"
dpkg-deb --field "$deb" Depends | grep -q libnng || fail "Depends: no libnng"
dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$run"
for s in postinst prerm postrm; do
	[ -x "$run/$s" ] || fail "no executable $s"
	sh -n "$run/$s" || fail "$s does not parse"
done
grep -q 'adduser --system' "$run/postinst" || fail "postinst makes no user"
if grep -v '^[[:space:]]*#' "$run/postinst" |
	grep -q 'systemctl.*\(enable\|start\)'; then
	fail "postinst enables or starts a unit"
fi
grep -qx /etc/usersd/usersd.conf "$run/conffiles" || fail "conffiles"
dpkg -x "$deb" "$root"

# 2. The units: systemd's own check (when systemd-analyze is there), the
# paths they name, and the socket both sides use.
units=$root/usr/lib/systemd/system
if command -v systemd-analyze >/dev/null 2>&1; then
	# systemd-analyze checks that ExecStart= is executable: point the
	# copies at the unpacked programs. It warns (and still exits 0) for
	# an unknown key or a bad value: any word from it fails the test.
	for u in usersd usersgw; do
		sed "s|/usr/bin/|$root/usr/bin/|" "$units/$u.service" \
			>"$run/$u.service"
	done
	systemd-analyze verify --man=no "$run/usersd.service" \
		"$run/usersgw.service" >"$run/verify.log" 2>&1 ||
		{ cat "$run/verify.log"; fail "systemd-analyze verify failed"; }
	if [ -s "$run/verify.log" ]; then
		cat "$run/verify.log"
		fail "systemd-analyze verify complains about the units"
	fi
fi
grep -q '^Type=notify' "$units/usersd.service" || fail "usersd: Type"
grep -q '^ExecStart=/usr/bin/usersd --config /etc/usersd/usersd.conf$' \
	"$units/usersd.service" || fail "usersd: ExecStart"
grep -q '^ExecStart=/usr/bin/usersgw --config /etc/usersd/usersgw.conf$' \
	"$units/usersgw.service" || fail "usersgw: ExecStart"
grep -q '^listen = ipc:///run/usersd/usersd.sock$' "$root/etc/usersd/usersd.conf" ||
	fail "usersd.conf: the socket"
grep -q '^daemon = ipc:///run/usersd/usersd.sock$' "$root/etc/usersd/usersgw.conf" ||
	fail "usersgw.conf: the socket"
grep -q '^RuntimeDirectory=usersd$' "$units/usersd.service" ||
	fail "usersd: RuntimeDirectory"
grep -q '^db = /var/lib/usersd/users.db$' "$root/etc/usersd/usersd.conf" ||
	fail "usersd.conf: the database"
grep -q '^StateDirectory=usersd$' "$units/usersd.service" ||
	fail "usersd: StateDirectory"
"$root/usr/bin/usersd" --config "$root/etc/usersd/usersd.conf" \
	--check-config >/dev/null || fail "usersd.conf does not check"
"$root/usr/bin/usersgw" --config "$root/etc/usersd/usersgw.conf" \
	--check-config >/dev/null || fail "usersgw.conf does not check"
"$root/usr/bin/usersd" --version | grep -qx "usersd 0.1.0" || fail "--version"

# 3. The unpacked programs against each other: the shipped settings, the
# paths moved into a scratch directory by flags (flags override the file).
sock="ipc://$run/usersd.sock"
USERSD_ADMIN_PASSWORD=package-test-pw "$root/usr/bin/usersd" \
	--config "$root/etc/usersd/usersd.conf" --listen "$sock" \
	--db "$run/users.db" --hash-cost m=64,t=1,p=1 \
	--allow-insecure-hash-cost --bootstrap-admin admin@example.com \
	2>"$run/usersd.log" &
pids="$pids $!"
wait_for "$run/usersd.log" "usersd: ready"
"$root/usr/bin/usersgw" --config "$root/etc/usersd/usersgw.conf" \
	--listen 127.0.0.1:0 --daemon "$sock" --threads 1 \
	2>"$run/usersgw.log" &
pids="$pids $!"
wait_for "$run/usersgw.log" "usersgw: ready on"
port=$(sed -n 's|.*ready on http://127.0.0.1:\([0-9]*\).*|\1|p' "$run/usersgw.log")
body=$(curl -sS -u admin@example.com:package-test-pw \
	"http://127.0.0.1:$port/users/1.json") || fail "curl failed"
echo "$body" | grep -q '"emailAddress":"admin@example.com"' ||
	fail "GET /users/1 through the unpacked usersgw: $body"

# 4. A C program of someone else's against the unpacked library.
pcdir=$root/usr/lib/$multiarch/pkgconfig
flags=$(PKG_CONFIG_SYSROOT_DIR=$root \
	PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs usersclient) ||
	fail "pkg-config usersclient"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -o "$run/getuser" \
	"$src/tests/dist/getuser.c" $flags || fail "cc getuser.c $flags"
libdir=$root/usr/lib/$multiarch
LD_LIBRARY_PATH=$libdir ldd "$run/getuser" | grep -q "$libdir/libusersclient.so.1" ||
	fail "getuser does not load the unpacked libusersclient.so.1"
got=$(GETUSER_PASSWORD=package-test-pw LD_LIBRARY_PATH=$libdir \
	"$run/getuser" "$sock" admin@example.com 1) || fail "getuser (pkg-config)"
[ "$got" = admin@example.com ] || fail "getuser (pkg-config) printed $got"

cmake -S "$src/tests/dist/consumer" -B "$run/consumer" \
	-DCMAKE_PREFIX_PATH="$root/usr" -DCMAKE_BUILD_TYPE=Release \
	>"$run/consumer.log" 2>&1 &&
	cmake --build "$run/consumer" >>"$run/consumer.log" 2>&1 ||
	{ cat "$run/consumer.log"; fail "find_package(usersclient) build"; }
got=$(GETUSER_PASSWORD=package-test-pw LD_LIBRARY_PATH=$libdir \
	"$run/consumer/getuser" "$sock" admin@example.com 1) ||
	fail "getuser (find_package)"
[ "$got" = admin@example.com ] || fail "getuser (find_package) printed $got"
echo "package_test: $(basename "$deb"): $(wc -l <"$run/files") paths; usersd and usersgw from it answered; getuser built by pkg-config and by find_package read the admin"
