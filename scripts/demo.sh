#!/usr/bin/env bash
# The README's main job on a bundled default: install smdr, start the local CRM simulator, replay a
# recorded Panasonic KX-TDA stream (at 9600 baud) through the connector into it, and show the calls
# the CRM received. KEEP=1 leaves the simulator running to look at its live page.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
rm -rf .demo && mkdir -p .demo
.venv/bin/smdr crm-sim --port 0 --db .demo/crm.sqlite > .demo/crm-sim.out 2> .demo/crm-sim.err &
SIM=$!
trap 'kill $SIM 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q "listening on" .demo/crm-sim.out 2>/dev/null && break
    sleep 0.1
done
PORT=$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\)/.*#\1#p' .demo/crm-sim.out | head -1)
[ -n "$PORT" ] || { echo "the CRM simulator did not start:"; cat .demo/crm-sim.err; exit 1; }
sed "s/\${PORT}/$PORT/" scripts/demo.yaml > .demo/smdr.yaml
echo "CRM simulator on http://127.0.0.1:$PORT/ (its live page lists popups and calls as they arrive)"
echo "Replaying fixtures/panasonic/kx-tda-a.smdr at 9600 baud into it..."
tail -n +2 -f .demo/crm-sim.out &
TAIL=$!
.venv/bin/smdr run --config .demo/smdr.yaml --once 2> .demo/smdr.log || { cat .demo/smdr.log; exit 1; }
sleep 0.3; kill $TAIL 2>/dev/null || true
echo
.venv/bin/python - "$PORT" <<'PY'
import json, sys, urllib.request
data = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/calls"))
print(f"The CRM holds {len(data['calls'])} calls ({len(data['popups'])} popups were shown):")
print(f"{'start':25} {'direction':9} {'event':10} {'agent':5} {'phone':15} {'talk':>5}  events received")
for c in data["calls"]:
    print(f"{c['starttime']:25} {c['direction']:9} {c['event']:10} {c['agent'] or '':5} {c['phone'] or '':15} "
          f"{c['duration']:>5}  {' > '.join(c['events'])}")
PY
echo
grep -E "quarantined|WARNING|ERROR" .demo/smdr.log | sed 's/^[0-9-]* [0-9:,]* //' || true
echo "Connector log: .demo/smdr.log; unparsed records kept in .demo/data/quarantine.jsonl"
if [ -n "${KEEP:-}" ]; then
    echo "KEEP=1: the simulator stays up at http://127.0.0.1:$PORT/ until you press Ctrl-C"
    wait $SIM
fi
