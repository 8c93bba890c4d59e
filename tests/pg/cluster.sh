#!/bin/sh
# shellcheck disable=SC2016 # sh -c scripts take their path as $1
# cluster.sh - a private PostgreSQL cluster for the tests.
#
#   cluster.sh start DIR   create a fresh cluster under DIR (a stale one made
#                          by this script is stopped and removed first), start
#                          it on 127.0.0.1 and a free port, create database
#                          usersd, write its URL to DIR/url (0600) and print it
#   cluster.sh stop DIR    stop that cluster if it runs, then remove DIR
#
# Layout: DIR (owned by the caller) holds .usersd-pg-cluster (the marker
# without which nothing is removed), url and the cluster itself: data/
# (PGDATA), sock/ (the unix socket, if the path is short enough) and log.
# The server never runs as root: as root, initdb and pg_ctl run as nobody
# (or, if there is no nobody, a system user usersd-pg made for it), which
# owns data/, sock/ and log but not DIR. When nobody cannot reach DIR (a
# parent directory it may not traverse), the cluster goes into a fresh
# /tmp/usersd-pg.XXXXXX instead, whose path is recorded in DIR/base.
#
# Superuser usersd, SCRAM-SHA-256 authentication for every connection, a
# random password that is written only to DIR/url and the URL line on
# stdout (so it is in ctest's log: a throwaway for a cluster that listens
# on 127.0.0.1 only).
set -eu

prog=cluster.sh
marker=.usersd-pg-cluster
start_deadline=60 # seconds, pg_ctl -t and the readiness poll
port_tries=5      # server starts on a fresh port when the port was taken

# Our connections go where we say, whatever the caller's environment says.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE \
	PGSERVICE PGSERVICEFILE PGOPTIONS PGDATA PGSSLMODE PGCONNECT_TIMEOUT

die()
{
	echo "$prog: $*" >&2
	exit 1
}

note()
{
	echo "$prog: $*" >&2
}

usage()
{
	die "usage: $prog start|stop DIR"
}

# The newest server binaries: pg_config's bindir when it has initdb (on
# Debian, libpq-dev's pg_config points at /usr/lib/postgresql/<v>/bin),
# else the highest /usr/lib/postgresql/<v>/bin. $1: a major version to
# prefer (the one a data directory was made with), may be empty.
find_bindir()
{
	if [ -n "$1" ] && [ -x "/usr/lib/postgresql/$1/bin/pg_ctl" ]; then
		echo "/usr/lib/postgresql/$1/bin"
		return 0
	fi
	if command -v pg_config >/dev/null 2>&1; then
		fb_dir=$(pg_config --bindir 2>/dev/null) || fb_dir=
		if [ -n "$fb_dir" ] && [ -x "$fb_dir/initdb" ] &&
			[ -x "$fb_dir/pg_ctl" ]; then
			echo "$fb_dir"
			return 0
		fi
	fi
	fb_dir=$(for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && echo "$d"
	done | sort -t/ -k5,5n | tail -n 1)
	[ -n "$fb_dir" ] || die "no PostgreSQL server binaries (initdb): install postgresql (scripts/deps.sh)"
	echo "$fb_dir"
}

# The unprivileged user the server runs as when we are root: sets run_uid
# and run_gid. Prefers nobody; creates a system user only without one.
pick_run_user()
{
	if id nobody >/dev/null 2>&1; then
		run_user=nobody
	else
		run_user=usersd-pg
		if ! id "$run_user" >/dev/null 2>&1; then
			note "no user nobody: creating system user $run_user"
			useradd --system --no-create-home --home-dir / \
				--shell /usr/sbin/nologin "$run_user" ||
				die "cannot create user $run_user"
		fi
	fi
	run_uid=$(id -u "$run_user")
	run_gid=$(id -g "$run_user")
}

# as_user UID GID CMD...: runs CMD as that user (as ourselves when we are
# not root, or when UID is ours), without supplementary groups or
# capabilities, from / and with HOME=/ so nothing of root's is read.
as_user()
{
	au_uid=$1
	au_gid=$2
	shift 2
	if [ "$(id -u)" -ne 0 ] || [ "$au_uid" -eq 0 ]; then
		"$@"
	elif command -v setpriv >/dev/null 2>&1; then
		(cd / && HOME=/ setpriv --reuid="$au_uid" --regid="$au_gid" \
			--clear-groups --inh-caps=-all --no-new-privs -- "$@")
	else
		(cd / && HOME=/ runuser -u "$(id -nu "$au_uid")" -- "$@")
	fi
}

# A port on 127.0.0.1 that nothing listens on right now (a bind test; the
# server may still lose a race for it, which start handles by retrying).
pick_port()
{
	if command -v python3 >/dev/null 2>&1; then
		python3 - <<'EOF'
import random, socket, sys
for _ in range(100):
    port = random.randint(20000, 60000)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit(1)
EOF
	else
		# No bind test: a random port, and the server's own bind decides.
		pp_n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		echo $((20000 + pp_n % 40001))
	fi
}

# Sets base (where data/, sock/, log are) for an existing DIR, checking
# that DIR is ours.
locate_base()
{
	base=$dir
	if [ -f "$dir/base" ]; then
		base=$(cat "$dir/base")
		case $base in
		/tmp/usersd-pg.*) ;;
		*) die "$dir/base names $base, not a cluster.sh directory" ;;
		esac
		[ -f "$base/$marker" ] || base=
	fi
}

cmd_stop()
{
	[ -e "$dir" ] || return 0
	if [ ! -f "$dir/$marker" ]; then
		# Only an empty directory may be taken over; anything else is
		# not ours to remove.
		rmdir "$dir" 2>/dev/null ||
			die "$dir exists and was not made by $prog: not touching it"
		return 0
	fi
	locate_base
	data=$base/data
	if [ -n "$base" ] && [ -f "$data/PG_VERSION" ]; then
		bindir=$(find_bindir "$(cat "$data/PG_VERSION")")
		owner_uid=$(stat -c %u "$data")
		owner_gid=$(stat -c %g "$data")
		if as_user "$owner_uid" "$owner_gid" "$bindir/pg_ctl" -D "$data" \
			status >/dev/null 2>&1; then
			as_user "$owner_uid" "$owner_gid" "$bindir/pg_ctl" \
				-D "$data" stop -m fast -w -t "$start_deadline" -s ||
				as_user "$owner_uid" "$owner_gid" "$bindir/pg_ctl" \
					-D "$data" stop -m immediate -w -s ||
				die "cannot stop the cluster in $data"
		fi
	fi
	if [ -n "$base" ] && [ "$base" != "$dir" ]; then
		rm -rf "$base"
	fi
	rm -rf "$dir"
}

# Exit trap of start: a server that started but was not made ready (or
# whose database could not be created) is stopped; DIR stays, with the
# log, until cluster.sh stop.
started=0
on_exit()
{
	st=$?
	if [ "$st" -ne 0 ] && [ "$started" -eq 1 ]; then
		as_user "$run_uid" "$run_gid" "$bindir/pg_ctl" -D "$data" \
			stop -m immediate -w -s >/dev/null 2>&1 || :
	fi
	[ -z "${pwfile:-}" ] || rm -f "$pwfile"
	exit "$st"
}

# A path the server user may create files in?
user_can_write()
{
	as_user "$run_uid" "$run_gid" sh -c 'test -w "$1" && test -x "$1"' sh "$1"
}

# mkdir_for_user PATH MODE: a directory owned by the server user.
mkdir_for_user()
{
	mkdir -m "$2" "$1"
	[ "$(id -u)" -ne 0 ] || chown "$run_uid:$run_gid" "$1"
}

cmd_start()
{
	[ -e "$dir" ] && cmd_stop
	bindir=$(find_bindir "")
	if [ "$(id -u)" -eq 0 ]; then
		pick_run_user
	else
		run_uid=$(id -u)
		run_gid=$(id -g)
	fi

	umask 022
	mkdir -p "$(dirname "$dir")"
	mkdir "$dir"
	: >"$dir/$marker"
	base=$dir
	mkdir_for_user "$base/data" 0700
	if ! user_can_write "$base/data"; then
		# A parent of DIR the server user may not traverse (a build
		# dir under /root, say): the cluster lives in /tmp instead.
		rmdir "$base/data"
		base=$(mktemp -d /tmp/usersd-pg.XXXXXX)
		chmod 0711 "$base"
		: >"$base/$marker"
		echo "$base" >"$dir/base"
		note "$dir is out of reach of uid $run_uid: cluster in $base"
		mkdir_for_user "$base/data" 0700
		user_can_write "$base/data" ||
			die "uid $run_uid cannot write $base/data"
	fi
	data=$base/data
	log=$base/log
	: >"$log"
	chmod 0600 "$log"
	[ "$(id -u)" -ne 0 ] || chown "$run_uid:$run_gid" "$log"
	[ "$base" = "$dir" ] || ln -s "$log" "$dir/log"

	# The socket path is sock/.s.PGSQL.<port>: 14 more characters, and
	# sun_path holds 107. Too long: TCP only.
	sockdir=$base/sock
	if [ $((${#sockdir} + 14)) -le 107 ]; then
		mkdir_for_user "$sockdir" 0700
	else
		note "$sockdir is too long for a unix socket: TCP only"
		sockdir=
	fi

	trap on_exit EXIT
	trap 'exit 130' INT TERM HUP

	password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
	[ ${#password} -eq 48 ] || die "cannot read /dev/urandom"
	pwfile=$base/pwfile
	(umask 077 && printf '%s\n' "$password" >"$pwfile")
	[ "$(id -u)" -ne 0 ] || chown "$run_uid:$run_gid" "$pwfile"

	locale=C
	if locale -a 2>/dev/null | grep -Eqi '^c\.utf-?8$'; then
		locale=C.UTF-8
	fi
	as_user "$run_uid" "$run_gid" "$bindir/initdb" -D "$data" \
		-U usersd --pwfile="$pwfile" --auth=scram-sha-256 \
		-E UTF8 --locale="$locale" --no-instructions >"$log" 2>&1 ||
		{
			cat "$log" >&2
			die "initdb failed"
		}
	rm -f "$pwfile"
	pwfile=

	as_user "$run_uid" "$run_gid" sh -c 'cat >>"$1"' sh \
		"$data/postgresql.conf" <<EOF

# cluster.sh: a private cluster for the tests (a 2-core VM)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 64MB
fsync = on
password_encryption = 'scram-sha-256'
include 'cluster_port.conf'
EOF

	attempt=0
	while :; do
		attempt=$((attempt + 1))
		port=$(pick_port) || die "no free port on 127.0.0.1"
		echo "port = $port" |
			as_user "$run_uid" "$run_gid" sh -c 'cat >"$1"' sh \
				"$data/cluster_port.conf"
		[ "$attempt" -eq 1 ] || : >"$log"
		started=1
		if as_user "$run_uid" "$run_gid" "$bindir/pg_ctl" -D "$data" \
			-l "$log" -w -t "$start_deadline" -s start; then
			break
		fi
		if [ "$attempt" -lt "$port_tries" ] &&
			grep -q 'could not bind\|Address already in use' "$log" &&
			! as_user "$run_uid" "$run_gid" "$bindir/pg_ctl" \
				-D "$data" status >/dev/null 2>&1; then
			started=0
			note "port $port was taken: trying another"
			continue
		fi
		cat "$log" >&2
		die "the server did not start (log: $log)"
	done

	# Ready for a client of our own: poll, with a deadline.
	deadline=$(($(date +%s) + start_deadline))
	until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U usersd \
		-d postgres -t 2; do
		[ "$(date +%s)" -lt "$deadline" ] || {
			cat "$log" >&2
			die "the server on port $port is not ready after ${start_deadline}s"
		}
		sleep 0.2
	done

	PGPASSWORD=$password PGCONNECT_TIMEOUT=10 "$bindir/psql" -X -q \
		-v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U usersd -d postgres \
		-c 'CREATE DATABASE usersd' ||
		die "cannot create database usersd"

	url="postgresql://usersd:$password@127.0.0.1:$port/usersd"
	(umask 077 && printf '%s\n' "$url" >"$dir/url.tmp")
	mv -f "$dir/url.tmp" "$dir/url"
	echo "$url"
}

[ $# -eq 2 ] || usage
dir=$2
[ -n "$dir" ] || usage
case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac
dir=${dir%/}
[ -n "$dir" ] || die "not removing /"

case $1 in
start) cmd_start ;;
stop) cmd_stop ;;
*) usage ;;
esac
