#!/usr/bin/env bash
# Installs what the tests need beyond Python packages: socat (pseudo-terminal pairs for serial tests) and
# chromium (the status page is checked in a real headless browser). socat is required; without chromium the
# browser tests are skipped with the reason shown.
set -euo pipefail
need=()
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} = 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq || true
    for package in "${need[@]}"; do
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$package" >/dev/null \
            || echo "install-test-deps: could not install $package" >&2
    done
elif command -v brew >/dev/null 2>&1; then
    brew install socat || true
    [[ " ${need[*]} " == *" chromium "* ]] && { brew install --cask chromium || true; }
else
    echo "install-test-deps: please install ${need[*]} with your system's package manager" >&2
fi
command -v socat >/dev/null || { echo "install-test-deps: socat is required for the serial tests" >&2; exit 1; }
