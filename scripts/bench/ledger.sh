#!/bin/sh
# Ledger benchmark: builds ./watchd (objects in build/), links
# scripts/bench/ledger_bench.c against them, runs it in a scratch directory
# and prints a table. Usage: scripts/bench/ledger.sh   (from anywhere)
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
make --no-print-directory watchd >/dev/null

pkgs="libuv libcjson libgit2 libssh2 sqlite3 expat"
# the objects of today's sources only: build/ may still hold objects of
# files that were moved or deleted since
objs=$(for f in lib/*.c gates/*.c config/*.c daemon/*.c daemon/*/*.c; do
	[ "$f" = daemon/cli/main.c ] || echo "build/${f%.c}.o"
done)
mkdir -p build/bench
# shellcheck disable=SC2046,SC2086 # word splitting of the object list and pkg-config flags is wanted
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -iquote . $(pkg-config --cflags $pkgs) \
	-o build/bench/ledger_bench scripts/bench/ledger_bench.c $objs \
	$(pkg-config --libs $pkgs) -lm

scratch=$(mktemp -d "${TMPDIR:-/tmp}/watchd-ledger-bench.XXXXXX")
runtime=$(mktemp -d "${TMPDIR:-/tmp}/watchd-ledger-bench-run.XXXXXX")
trap 'rm -rf "$scratch" "$runtime"' EXIT INT TERM

echo "ledger benchmark: 100,000 findings over 10,000 gate runs, then queries on 100,000 runs"
XDG_RUNTIME_DIR=$runtime build/bench/ledger_bench "$scratch" "$top/watchd" |
	awk 'BEGIN { printf "%-26s %14s  %-10s %s\n", "measure", "value", "unit", "target";
		     printf "%-26s %14s  %-10s %s\n", "-------", "-----", "----", "------" }
	     { t = $4; if (t == "") t = "-"; printf "%-26s %14s  %-10s %s\n", $1, $2, $3, t }'
