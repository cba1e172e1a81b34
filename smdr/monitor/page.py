"""The connector's status page: self-contained HTML that reads /status.json every 2 seconds."""

from __future__ import annotations

from typing import Final

STATUS_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>smdr status</title>
<style>
body { font: 14px/1.4 system-ui, "Segoe UI", Tahoma, sans-serif; margin: 1em 2em; color: #222; background: #fafafa; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1.1em 0 .4em; }
.muted { color: #777; } .ok { color: #176b2c; } .bad { color: #b00020; font-weight: bold; }
#banner { padding: .5em .8em; border-radius: 6px; margin: .6em 0; }
#banner.ok { background: #e6f6ea; border: 1px solid #9fd3ad; }
#banner.bad { background: #fdecee; border: 1px solid #e8a0aa; }
#banner ul { margin: .2em 0 0 1.2em; padding: 0; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .5em; text-align: start; white-space: nowrap; }
th { background: #eee; } td.num { text-align: end; } td.wrap { white-space: normal; }
.badge { padding: 0 .45em; border-radius: 4px; color: #fff; font-size: .9em; }
.badge.up { background: #1e8e3e; } .badge.down, .badge.connecting { background: #c5221f; }
.badge.ended { background: #777; }
.cards { display: flex; gap: .8em; flex-wrap: wrap; }
.card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .4em .8em; min-width: 9em; }
.card b { display: block; font-size: 1.3em; }
</style></head>
<body>
<h1>smdr <span class="muted" id="version"></span></h1>
<div class="muted" id="uptime">connecting…</div>
<div id="banner" class="ok">…</div>
<h2>PBX links</h2>
<table><thead><tr><th>source</th><th>link</th><th>since</th><th>last record</th><th>records</th><th>calls</th>
<th>PBX clock</th><th>layout</th><th>url</th></tr></thead><tbody id="sources"></tbody></table>
<h2>CRM delivery</h2>
<div class="cards" id="outbox"></div>
<h2>Recent calls</h2>
<table><thead><tr><th>seen</th><th>source</th><th>direction</th><th>event</th><th>ext</th><th>phone</th>
<th>talk</th><th>call_id</th></tr></thead><tbody id="calls"></tbody></table>
<script>
"use strict";
function el(tag, cls, text) { const n = document.createElement(tag); if (cls) n.className = cls;
  if (text !== undefined && text !== null) n.textContent = String(text); return n; }
function row(cells) { const tr = document.createElement("tr");
  for (const c of cells) tr.appendChild(c instanceof Node ? c : el("td", "", c)); return tr; }
function td(node, cls) { const t = el("td", cls || ""); t.appendChild(node); return t; }
function time(ts) { return ts ? new Date(ts * 1000).toLocaleTimeString([], {hour12: false}) : "–"; }
function ago(ts, now) { if (!ts) return "never"; const s = Math.max(0, Math.round(now - ts));
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${(s / 3600).toFixed(1)} h ago`; }
function span(s) { s = Math.round(s || 0); return s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` :
  s < 172800 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 86400)} days`; }
function talk(s) { s = Number(s) || 0; return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`; }
function card(label, value, bad) { const c = el("div", "card"); const b = el("b", bad ? "bad" : "", value);
  c.appendChild(b); c.appendChild(el("span", "muted", label)); return c; }
function show(d) {
  document.getElementById("version").textContent = "version " + d.version;
  document.getElementById("uptime").textContent = `running for ${span(d.uptime)}, page updated ${time(d.now)}`;
  const banner = document.getElementById("banner"); banner.replaceChildren();
  if (d.problems.length) { banner.className = "bad"; banner.appendChild(el("b", "", "Needs a look:"));
    const ul = el("ul"); for (const p of d.problems) ul.appendChild(el("li", "", p)); banner.appendChild(ul);
  } else { banner.className = "ok"; banner.textContent = "All well: every PBX link is up and calls reach the CRM."; }
  const sources = document.getElementById("sources"); sources.replaceChildren();
  for (const s of d.sources) {
    let clock = s.clock_offset === null ? "–" : (Math.abs(s.clock_offset) < 90 ? "right" :
      `${span(Math.abs(s.clock_offset))} ${s.clock_offset > 0 ? "ahead" : "behind"}`);
    const clockCell = el("td", s.clock_wrong ? "bad" : "", clock);
    const last = el("td", s.silent ? "bad" : "", ago(s.last_record_at, d.now) + (s.silent ? " (silent)" : ""));
    sources.appendChild(row([el("td", "", s.name), td(el("span", "badge " + s.link, s.link)),
      time(s.link_since), last, el("td", "num", s.records), el("td", "num", s.events), clockCell, s.layout,
      el("td", "wrap muted", s.url)]));
  }
  const box = document.getElementById("outbox"); box.replaceChildren();
  if (d.outbox) { const c = d.outbox.counts;
    box.appendChild(card("queued", c.queued || 0, (c.queued || 0) > 0 && d.outbox.oldest_queued_age > 300));
    const oldest = d.outbox.oldest_queued_age;
    box.appendChild(card("oldest queued", oldest === null ? "–" : span(oldest)));
    box.appendChild(card("delivered", c.delivered || 0));
    box.appendChild(card("dead letters", c.dead || 0, (c.dead || 0) > 0));
    box.appendChild(card("delivery", d.outbox.paused_by_auth ? "PAUSED" : "running", d.outbox.paused_by_auth));
    const err = card("last CRM error", d.outbox.last_error ? time(d.outbox.last_error_at) : "none");
    if (d.outbox.last_error) err.appendChild(el("div", "muted", d.outbox.last_error));
    box.appendChild(err);
  } else { box.appendChild(el("span", "muted", "no crm: section: calls are written to the output file")); }
  const q = Object.values(d.quarantined).reduce((a, b) => a + b, 0);
  box.appendChild(card("quarantined records", q, false));
  const calls = document.getElementById("calls"); calls.replaceChildren();
  if (!d.recent_calls.length) calls.appendChild(row([el("td", "muted", "no call yet")]));
  for (const c of d.recent_calls) calls.appendChild(row([time(c.at), c.source, c.direction, c.event,
    c.agent || "", c.phone || "", el("td", "num", talk(c.duration)),
    el("td", "muted", (c.call_id || "").slice(0, 10))]));
  document.documentElement.dataset.scrollWidth = document.documentElement.scrollWidth;  // the browser test reads it
}
async function refresh() {
  try { const r = await fetch("status.json" + location.search, {cache: "no-store"}); show(await r.json()); }
  catch (e) { const b = document.getElementById("banner"); b.className = "bad";
    b.textContent = "The connector does not answer (stopped, or restarting)."; }
}
refresh(); setInterval(refresh, 2000);
</script>
</body></html>
"""
