#!/usr/bin/env bash
# Installs the tools watchd's tests need but users never do: Ruff's WASM engine
# (@astral-sh/ruff-wasm-nodejs, pinned in tests/tools/package.json and
# tests/tools/package-lock.json) for the ruff stand-in tests/tools/ruff.
#
# Idempotent and silent when everything is already installed at the pinned
# version. Installs Debian's nodejs/npm only when node or npm is missing.
set -euo pipefail

cd "$(dirname "$0")/.."

TOOLS=tests/tools
PKG=@astral-sh/ruff-wasm-nodejs

have() { command -v "$1" >/dev/null 2>&1; }

if ! have node || ! have npm; then
    echo "install-test-tools: node/npm not found, installing Debian's nodejs and npm" >&2
    SUDO=
    if [ "$(id -u)" -ne 0 ]; then
        if have sudo; then SUDO=sudo; else
            echo "install-test-tools: need root (or sudo) to install nodejs npm" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# The version pinned in package.json ("@astral-sh/ruff-wasm-nodejs": "0.17.4").
pinned=$(node -e 'const p=require(process.argv[1]); process.stdout.write(p.dependencies[process.argv[2]] || "")' \
    "$PWD/$TOOLS/package.json" "$PKG")
installed=$(node -e 'try { process.stdout.write(require(process.argv[1]).version) } catch (e) {}' \
    "$PWD/$TOOLS/node_modules/$PKG/package.json")

if [ -n "$pinned" ] && [ "$installed" = "$pinned" ] && [ -f "$TOOLS/node_modules/$PKG/ruff_wasm_bg.wasm" ]; then
    exit 0
fi

npm ci --prefix "$TOOLS" --no-audit --no-fund --loglevel=error >/dev/null
