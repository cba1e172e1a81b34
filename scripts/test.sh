#!/usr/bin/env bash
# The test command of the README and of CI: a venv with the package and its test extras, socat, pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k golden). The tests run in SMDR_TEST_WORKERS (default 4)
# pytest-xdist processes: most of them wait on real subprocesses, so 4 pay even on 2 cores. SMDR_TEST_WORKERS=0
# (or -n 0 among the arguments) runs them in this one process, e.g. for --pdb or -s. --dist loadgroup: the
# tests of one xdist_group (a module-scoped fixture that builds something) share one worker.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv || exit 1
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' || exit 1
bash scripts/install-test-deps.sh || exit 1
workers="${SMDR_TEST_WORKERS:-4}"
parallel=()
if [ "$workers" != 0 ]; then parallel=(-n "$workers" --dist loadgroup); fi
.venv/bin/python -m pytest "${parallel[@]}" "$@"
status=$?
if [ "$status" = 5 ]; then
    echo "scripts/test.sh: pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
