#!/usr/bin/env bash
# The README's main job on a bundled default: install smdr in .venv, then `smdr demo`: the local CRM
# simulator, a recorded Panasonic KX-TDA stream replayed at 9600 baud through the connector into it, and
# what the CRM received. KEEP=1 (or --keep) leaves the simulator running to look at its live page.
# On Windows: `py -m venv .venv`, `.venv\Scripts\pip install .`, `.venv\Scripts\smdr demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/smdr demo ${KEEP:+--keep} "$@"
