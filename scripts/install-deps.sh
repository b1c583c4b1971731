#!/usr/bin/env bash
# Installs the Debian packages watchd builds and tests with. Idempotent and
# silent when everything is present; uses sudo when not run as root.
set -euo pipefail

packages=(
	build-essential pkg-config
	libuv1-dev libcjson-dev libgit2-dev libssh2-1-dev libsqlite3-dev libexpat1-dev libyaml-dev
	git python3 python3-pytest python3-jsonschema
	libcurl4-openssl-dev libssl-dev
	nginx
	shellcheck black pre-commit
	groff-base mandoc man-db zsh
	clang libclang-rt-14-dev
)

# make bench also compares against the tools users would otherwise pick
if [ "${1:-}" = "--bench" ]; then
	packages+=(inotify-tools watchman entr pre-commit)
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done
# Node.js runs the Ruff test stand-in; any node >= 18 on PATH will do (a
# nodesource build conflicts with Debian's npm package, so do not force it).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive

# nginx is here for its binary only: the remote cache tests start their own
# server on a free port. Its package would start the system service on port
# 80 (and fail to configure where that cannot bind), so for the length of
# this install a policy-rc.d (invoke-rc.d(8)) denies starting nginx and
# nothing else. An existing policy is left alone: it is the machine's.
policy=/usr/sbin/policy-rc.d
new_nginx=0
case " ${missing[*]} " in *" nginx "*) new_nginx=1 ;; esac
if [ "$new_nginx" = 1 ] && [ ! -e "$policy" ]; then
	trap '$sudo rm -f "$policy"' EXIT
	# shellcheck disable=SC2016 # the policy script expands $a, not this one
	printf '%s\n' '#!/bin/sh' \
		'# written by watchd scripts/install-deps.sh for one apt-get run' \
		'for a; do case $a in -*) ;; nginx|nginx.service) exit 101 ;; *) exit 0 ;; esac; done' \
		'exit 0' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
fi
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
	$sudo apt-get update -qq >/dev/null
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# the service was not there before: keep it from starting at the next boot
if [ "$new_nginx" = 1 ] && [ -d /run/systemd/system ]; then
	$sudo systemctl disable --now nginx.service >/dev/null 2>&1 || true
fi
