"""EventJson writes what json.dumps(event.to_dict(), ensure_ascii=False) writes, byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from smdr.compiled import is_compiled
from smdr.eventjson import EventJson
from smdr.model import CallEvent, Provenance

TEHRAN = ZoneInfo("Asia/Tehran")
NEW_YORK = ZoneInfo("America/New_York")


def reference(event: CallEvent) -> str:
    return json.dumps(event.to_dict(), ensure_ascii=False)


def events() -> list[CallEvent]:
    start = datetime(2026, 1, 14, 9, 30, 5, tzinfo=TEHRAN)
    texts = ['plain', 'quote " and back\\slash', "tab\tnew\nline\x00\x1f\x7f", "۰۹۱۲ فارسی", "emoji \U0001F4DE",
             "bad \udcff byte", ""]
    out = []
    for n, text in enumerate(texts):
        prov = Provenance("pbx " + text, "layout", text, n, start if n % 2 else None)
        out.append(CallEvent(f"id{n}", "inbound", "answered", text, text, n * 7, None if n % 2 else n, text, text,
                             text or None, start + timedelta(seconds=n), None if n % 3 else start, prov))
    out.append(CallEvent("bare", "outbound", "ringing"))  # every optional value absent, no provenance
    # the same instant in two zones, and both sides of New York's autumn change: each prints its own offset
    utc = start.astimezone(UTC)
    autumn = datetime(2025, 11, 2, 1, 30, tzinfo=NEW_YORK)
    elsewhere = start.replace(tzinfo=NEW_YORK)  # the same wall minute in another zone: another text
    for n, when in enumerate((start, utc, autumn, autumn.replace(fold=1), start.replace(microsecond=250), elsewhere,
                              start)):
        out.append(CallEvent(f"zone{n}", "inbound", "answered", starttime=when, endtime=when))
    return out


def test_every_value_kind_prints_as_json_dumps_prints_it() -> None:
    writer = EventJson()
    lines = [writer.line(event) for event in events() + events()]  # the second pass reads the time cache
    assert lines == [reference(event) for event in events() + events()]
    assert len(set(lines)) == len(events())
    # equal datetimes (fold is ignored in comparisons) that print different offsets: not one cache entry
    assert '"starttime": "2025-11-02T01:30:00-04:00"' in lines[-5]
    assert '"starttime": "2025-11-02T01:30:00-05:00"' in lines[-4]
    assert '"starttime": "2026-01-14T09:30:05-05:00"' in lines[-2]  # New York's 09:30, not Tehran's


def test_a_value_of_another_type_than_the_model_s_goes_through_the_json_module() -> None:
    odd = [CallEvent("b", "inbound", "answered", duration=True),        # json: true, str(): True
           CallEvent("p", "inbound", "answered", provenance=Provenance("s", "l", "raw", position=False))]
    if is_compiled():  # the compiled model checks its types: an int where text belongs is refused at once
        with pytest.raises(TypeError):
            CallEvent("i", "inbound", "answered", agent=101)  # type: ignore[arg-type]
    else:
        odd.append(CallEvent("i", "inbound", "answered", agent=101))  # type: ignore[arg-type]
    writer = EventJson()
    assert [writer.line(event) for event in odd] == [reference(event) for event in odd]
