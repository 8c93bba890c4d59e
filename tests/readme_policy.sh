#!/bin/sh
# The README's "Who may do what" table is what `usersctl policy` prints from
# the contract. Checks that they are equal; with --write, rewrites the
# README's block instead.
#   tests/readme_policy.sh USERSCTL README [--write]
set -eu
ctl=$1
readme=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$ctl" policy >"$tmp/want"
# The lines between the markers, markers excluded.
awk '/^<!-- policy:end/ {on=0} on {print} /^<!-- policy:begin/ {on=1}' \
	"$readme" >"$tmp/have"
[ -s "$tmp/have" ] || { echo "readme_policy: no policy block in $readme" >&2; exit 1; }

if [ "${3:-}" = "--write" ]; then
	awk -v want="$tmp/want" '
		/^<!-- policy:end/ {
			while ((getline line < want) > 0) print line
			on = 0
		}
		!on {print}
		/^<!-- policy:begin/ {on = 1}' "$readme" >"$tmp/new"
	cp "$tmp/new" "$readme"
	exit 0
fi
if ! diff -u "$tmp/have" "$tmp/want"; then
	echo "readme_policy: README's table differs from 'usersctl policy';" \
		"run: tests/readme_policy.sh $ctl $readme --write" >&2
	exit 1
fi
