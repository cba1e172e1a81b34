"""HTML of crm-sim: the technician's live page, the Lookup (CTI popup) page and injected error pages.

Self-contained (no external assets), UTF-8, ``dir="auto"`` wherever a Persian name may appear.
"""

from __future__ import annotations

from html import escape
from typing import Final

from .contacts import Contact

LIVE_PAGE: Final = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>crm-sim: ParsVT Generic PBX simulator</title>
<style>
body { font: 14px/1.4 system-ui, "Segoe UI", Tahoma, sans-serif; margin: 1em 2em; color: #222;
       background: #fafafa; }
h1 { font-size: 1.3em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
.muted { color: #777; } .bar span { margin-right: 1.4em; }
#state.down { color: #b00; font-weight: bold; } .fault { color: #b50; font-weight: bold; }
#popups { display: flex; flex-wrap: wrap; gap: .6em; }
.popup { background: #fff8dc; border: 1px solid #e0c060; border-radius: 6px; padding: .5em .8em;
         min-width: 14em; }
.popup .name { font-size: 1.15em; font-weight: bold; } .popup .unknown { color: #999; font-style: italic; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .45em; text-align: start; white-space: nowrap; }
th { background: #eee; position: sticky; top: 0; }
td.events { white-space: normal; font-family: ui-monospace, monospace; font-size: .85em; }
td.contact { white-space: normal; max-width: 14em; } td.id { font-family: ui-monospace, monospace; color: #666; }
td.num { text-align: end; } .filter { margin: .3em 0 .6em; } .filter input { width: 22em; padding: .2em .4em; }
tr.ringing td { background: #fffbe6; } tr.answered td { background: #eefaf0; }
tr.no_answer td, tr.busy td { background: #fdeeee; } tr.in-progress td { background: #eef4fd; }
</style></head>
<body>
<h1>crm-sim <span class="muted">ParsVT "Generic PBX" simulator</span></h1>
<div class="bar"><span id="state">connecting…</span><span id="stats"></span><span id="faults"></span></div>
<p class="muted">Endpoint: <code id="endpoint"></code></p>
<h2>Popups (ringing)</h2>
<div id="popups"><span class="muted">none yet</span></div>
<h2>Calls <span class="muted" id="count"></span></h2>
<div class="filter"><input id="filter" type="search" placeholder="filter: phone, name, extension, event…"
 aria-label="filter the calls"> <span class="muted">times are the PBX's local time</span></div>
<table><thead><tr><th>#</th><th>start</th><th>end</th><th>direction</th><th>event</th><th>ext</th>
<th>phone</th><th>contact</th><th>talk</th><th>line</th><th>events received</th><th>call_id</th>
</tr></thead><tbody id="calls"></tbody></table>
<script>
"use strict";
const SHOWN = 200, POPUPS = 8;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const ARROWS = {inbound: "← in", outbound: "→ out", internal: "↔ internal"};
let lastCalls = [], lastTotal = 0;
// "2026-11-21T08:21:00+03:30" -> "21 Nov 08:21:00": the wall time the PBX printed, in its own zone
function wallTime(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso || "");
  return m ? `${+m[3]} ${MONTHS[+m[2] - 1]} ${m[4]}` : (iso || "");
}
function clockTime(iso) { const m = /T(\d{2}:\d{2}:\d{2})/.exec(iso || ""); return m ? m[1] : (iso || ""); }
function talk(seconds) {
  const s = Number(seconds) || 0;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:` +
    String(s % 60).padStart(2, "0") : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
document.getElementById("endpoint").textContent = location.origin + "/modules/ParsVT/ws/API/V2/PBX/Generic";
function cell(row, text, cls) {
  const td = document.createElement("td"); td.dir = "auto";
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (cls) td.className = cls; row.appendChild(td);
}
function el(tag, cls, text) {
  const node = document.createElement(tag); if (cls) node.className = cls;
  if (text !== undefined) { node.textContent = text; node.dir = "auto"; } return node;
}
function showPopups(popups) {
  const box = document.getElementById("popups"); box.replaceChildren();
  if (!popups.length) { box.appendChild(el("span", "muted", "none yet")); return; }
  for (const p of popups.slice(-POPUPS).reverse()) {
    const card = el("div", "popup");
    card.appendChild(p.contact ? el("div", "name", p.contact) : el("div", "name unknown", "unknown caller"));
    card.appendChild(el("div", "", p.phone + "  →  " + p.agent));
    card.appendChild(el("div", "muted", clockTime(p.time)));
    box.appendChild(card);
  }
}
function showCalls(calls, total) {
  lastCalls = calls; lastTotal = total;
  const wanted = document.getElementById("filter").value.trim().toLowerCase();
  const body = document.getElementById("calls"); body.replaceChildren();
  let shown = 0;
  for (const c of calls.slice().reverse()) {
    const text = [c.phone, c.contact, c.agent, c.event, c.direction, c.linename, c.call_id].join(" ").toLowerCase();
    if (wanted && !text.includes(wanted)) continue;
    shown++;
    const row = document.createElement("tr"); row.className = c.event;
    cell(row, c.id, "num");
    cell(row, wallTime(c.starttime)); cell(row, clockTime(c.endtime)); cell(row, ARROWS[c.direction] || c.direction);
    cell(row, c.event); cell(row, c.agent); cell(row, c.phone); cell(row, c.contact || "", "contact");
    cell(row, talk(c.duration), "num"); cell(row, c.linename);
    cell(row, c.events.join(" → "), "events");
    const id = el("td", "id", (c.call_id || "").slice(0, 8)); id.title = c.call_id; row.appendChild(id);
    body.appendChild(row);
  }
  const of = total > calls.length ? `newest ${calls.length} of ${total}` : `${total}`;
  document.getElementById("count").textContent = wanted ? `(${shown} shown of ${of})` : `(${of})`;
  // read by the browser test: the page must fit the window (1280 px) without a horizontal scroll bar
  document.documentElement.dataset.scrollWidth = document.documentElement.scrollWidth;
}
async function refresh() {
  const state = document.getElementById("state");
  try {
    const [data, stats, faults] = await Promise.all([`/calls?limit=${SHOWN}`, "/stats", "/_sim/faults"]
      .map(u => fetch(u, {cache: "no-store"}).then(r => r.json())));
    showPopups(data.popups); showCalls(data.calls, stats.stored.calls);
    state.textContent = "live"; state.className = "";
    const s = stats;
    document.getElementById("stats").textContent = `requests ${s.requests}: ok ${s.ok}, auth ${s.auth}, ` +
      `invalid ${s.invalid}, injected ${s.injected_error}, dropped while down ${s.down}`;
    const active = [];
    if (faults.latency_ms) active.push(`latency ${faults.latency_ms} ms`);
    if (faults.error_rate) active.push(`error rate ${faults.error_rate}`);
    if (faults.reject_secret) active.push("rejecting the secret");
    if (faults.down_for) active.push(`down for ${faults.down_for.toFixed(1)} s more`);
    const f = document.getElementById("faults");
    f.textContent = active.length ? "faults: " + active.join(", ") : ""; f.className = "fault";
  } catch (err) {
    state.textContent = "simulator not reachable (down or stopped)"; state.className = "down";
  }
}
const filterBox = document.getElementById("filter");
if (location.hash.startsWith("#filter=")) filterBox.value = decodeURIComponent(location.hash.slice(8));
filterBox.addEventListener("input", () => {
  history.replaceState(null, "", filterBox.value ? "#filter=" + encodeURIComponent(filterBox.value) : "#");
  showCalls(lastCalls, lastTotal);
});
refresh(); setInterval(refresh, 1000);
</script>
</body></html>
"""


def lookup_page(phone: str, contact: Contact | None, record_url: str | None) -> str:
    """What ``<endpoint>/Lookup?phone=`` opens: the matching record, or a "not found" search page."""
    if contact is None:
        body = (f"<h1>not found</h1><p>No record has the number <b dir=\"ltr\">{escape(phone)}</b>; "
                f"the CRM would now search the whole system for it.</p>")
        title = "not found"
    else:
        rows = "".join(
            f"<tr><th>{label}</th><td dir=\"auto\">{escape(value or '')}</td></tr>"
            for label, value in (("name", contact.name), ("module", contact.module), ("phone", contact.phone),
                                 ("mobile", contact.mobile), ("business phone", contact.businessphone),
                                 ("email", contact.email), ("company", contact.company)))
        body = (f"<h1 dir=\"auto\">{escape(contact.name)}</h1><table>{rows}</table>"
                f"<p><a href=\"{escape(record_url or '')}\">record {escape(contact.id)}</a></p>")
        title = contact.name
    return _document(f"Lookup {phone}: {title}", body)


def error_page(status: int, reason: str, detail: str) -> str:
    """A 5xx body the way a web server or PHP shows it, so clients meet non-JSON answers."""
    return _document(f"{status} {reason}",
                     f"<h1>{status} {escape(reason)}</h1><p>{escape(detail)}</p>"
                     "<hr><address>crm-sim</address>")


def _document(title: str, body: str) -> str:
    return ("<!doctype html><html><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title>"
            "<style>body{font:14px system-ui,Tahoma,sans-serif;margin:2em}"
            " th{text-align:start;padding-right:1em}</style></head>"
            f"<body>{body}</body></html>")
