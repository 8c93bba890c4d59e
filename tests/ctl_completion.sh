#!/bin/sh
# ctl_completion.sh USERSCTL: `usersctl completion bash` loaded into bash
# completes as a user expects: groups, a group's commands, a command's
# own options (and the global ones), past the value of an option.
set -eu
ctl=$1
command -v bash >/dev/null || { echo "ctl_completion: no bash"; exit 0; }
fail=0
# complete "WORDS" "EXPECTED": WORDS typed so far (a trailing space: a new
# word), EXPECTED the completions, space-separated.
check() {
	got=$(bash -c 'source <("$0" completion bash)
		COMP_WORDS=($1)
		case $1 in *" ") COMP_WORDS+=("") ;; esac
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_usersctl
		echo "${COMPREPLY[*]}"' "$ctl" "$1")
	if [ "$got" != "$2" ]; then
		echo "ctl_completion: \"$1\": got \"$got\", want \"$2\""
		fail=1
	fi
}
check "usersctl us" "user"
check "usersctl user " "create get list patch update delete"
check "usersctl --url ipc:///x user p" "patch"
check "usersctl --user=a@b.c org " "create get list"
check "usersctl user create --e" "--email"
check "usersctl org list --p" "--password-file --parent"
check "usersctl member add --ro" ""
check "usersctl completion b" "bash"
check "usersctl -o y" "yaml"
check "usersctl --output " "table wide json yaml"
check "usersctl -o json user g" "get"
exit $fail
