#!/usr/bin/env bash
# Installs what the tests need beyond Python packages: socat (pseudo-terminal pairs for serial tests).
set -euo pipefail
if command -v socat >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq socat >/dev/null
elif command -v brew >/dev/null 2>&1; then
    brew install socat
else
    echo "install-test-deps: please install socat with your system's package manager" >&2
    exit 1
fi
command -v socat >/dev/null
