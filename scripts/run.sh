#!/bin/sh
# run.sh BUILD_DIR - starts the embedded default: usersd on
# ipc://./var/usersd.sock with SQLite under ./var, and usersgw on
# 127.0.0.1:8080 when the gateway is built. Ctrl-C stops both.
set -eu
build=${1:-build}
mkdir -p var
chmod 700 var

admin=${USERSD_ADMIN_EMAIL:-admin@example.com}
pids=""
stop() {
	trap - INT TERM EXIT
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	echo "run: stopped"
}
trap stop INT TERM EXIT

# The first start creates the administrator; its password is printed once
# and kept in var/admin-password (mode 0600) so that this script can show
# it again.
if [ ! -f var/users.db ] && [ -z "${USERSD_ADMIN_PASSWORD:-}" ]; then
	umask 077
	USERSD_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
	printf '%s\n' "$USERSD_ADMIN_PASSWORD" >var/admin-password
	export USERSD_ADMIN_PASSWORD
fi

"$build/bin/usersd" --listen ipc://./var/usersd.sock --db ./var/users.db \
	--bootstrap-admin "$admin" &
pids="$!"

# Wait (bounded) until the daemon says it is ready.
i=0
while [ ! -S var/usersd.sock ] && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done

if ! kill -0 "$pids" 2>/dev/null; then
	echo "run: usersd did not start (see above)" >&2
	exit 1
fi

gw=""
if [ -x "$build/bin/usersgw" ]; then
	"$build/bin/usersgw" --listen 127.0.0.1:8080 \
		--daemon ipc://./var/usersd.sock 2>var/usersgw.log &
	gw=$!
	pids="$pids $gw"
	# Bounded wait for "usersgw: ready"; if it exits, say why.
	i=0
	while ! grep -q "usersgw: ready" var/usersgw.log 2>/dev/null; do
		if ! kill -0 "$gw" 2>/dev/null || [ $i -ge 100 ]; then
			cat var/usersgw.log >&2
			echo "run: usersgw did not start" >&2
			exit 1
		fi
		i=$((i + 1))
		sleep 0.1
	done
	# From now on its log goes to the terminal too.
	tail -n +2 -f var/usersgw.log &
	pids="$pids $!"
fi

pw="(the password you set in USERSD_ADMIN_PASSWORD)"
[ -f var/admin-password ] && pw=$(cat var/admin-password)
cat <<MSG

usersd is running (store: ./var/users.db, RPC: ipc://./var/usersd.sock).
Administrator: $admin
Password:      $pw

Log in and look yourself up with the command-line tool:
  USERSCTL_PASSWORD='$pw' $build/bin/usersctl --user $admin login
  $build/bin/usersctl user list
MSG
if [ -x "$build/bin/usersgw" ]; then
	cat <<MSG

REST gateway on http://127.0.0.1:8080:
  curl -s -u '$admin:$pw' http://127.0.0.1:8080/users
MSG
fi
echo
echo "Ctrl-C stops everything."
wait
