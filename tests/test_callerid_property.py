"""Property tests of the caller-ID sources: any bytes, any order of line events, never an exception and
never a call left open past its timeout."""

from __future__ import annotations

import functools
import sys
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures" / "callerid"))
import make_fixtures as mk

from smdr import layouts
from smdr.decoder import Decoder
from smdr.layouts.record import ParserContext
from smdr.model import FINAL_EVENTS
from smdr.normalize import Localizer, PhoneRules, zone
from smdr.quarantine import Quarantine

TZ = zone("Asia/Tehran")
T0 = datetime(2026, 1, 14, 9, 0, tzinfo=TZ)
CALLERID_LAYOUTS = ["callerid-fsk", "callerid-dtmf", "callerid-modem", "whozz-calling", "whozz-calling-el",
                    "ncid", "oj-segal", "callerid-capture-first"]
RING_TIMEOUT, MAX_CALL = 8, 300
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
# real frames of every protocol, from the fixture generator, to shuffle, drop and repeat
FRAMES = {name: [data for _, data in build()] for name, build in mk.STREAMS.items()}
LAYOUT_OF = {"fsk.bin": "callerid-fsk", "dtmf.txt": "callerid-dtmf", "modem.txt": "callerid-modem",
             "whozz.txt": "whozz-calling", "whozz-el.bin": "whozz-calling-el", "ojsegal.txt": "oj-segal",
             "ncid.txt": "ncid"}


# finding a layout reads every YAML file: once per layout, not once per example (each example still
# compiles its own parser and gets its own decoder)
find_layout = functools.cache(layouts.find)


def decoder(layout: str) -> Decoder:
    context = ParserContext(zone=TZ, options={"ring_timeout": RING_TIMEOUT, "max_call": MAX_CALL})
    info = find_layout(layout)
    return Decoder("prop", info.compile(None, context), localize=Localizer(TZ), phone=PhoneRules(),
                   quarantine=Quarantine(None), fold=info.fold, context=context)


@PROPERTY
@given(layout=st.sampled_from(CALLERID_LAYOUTS), chunks=st.lists(st.binary(max_size=120), max_size=12))
def test_arbitrary_bytes_never_raise(layout: str, chunks: list[bytes]) -> None:
    dec = decoder(layout)
    for i, chunk in enumerate(chunks):
        now = T0 + timedelta(seconds=3 * i)
        dec.tick(now)
        dec.feed(chunk, now)
    dec.finish()
    dec.tick(T0 + timedelta(days=1))
    assert not dec.tracker.open_calls()


@PROPERTY
@given(stream=st.sampled_from(sorted(LAYOUT_OF)), data=st.data())
def test_lost_repeated_and_reordered_frames_never_leave_a_call_open(stream: str, data: st.DataObject) -> None:
    frames = FRAMES[stream]
    picks = data.draw(st.lists(st.sampled_from(range(len(frames))), max_size=30), label="frames in any order")
    gaps = data.draw(st.lists(st.floats(0, 700), min_size=len(picks), max_size=len(picks)), label="gaps")
    dec = decoder(LAYOUT_OF[stream])
    now, events = T0, []
    for index, gap in zip(picks, gaps):
        now += timedelta(seconds=gap)
        events += dec.tick(now)
        events += dec.feed(frames[index], now)
    events += dec.finish()
    # at most the longest timeout after the last frame, every call is closed
    events += dec.tick(now + timedelta(seconds=MAX_CALL + 1))
    assert not dec.tracker.open_calls()
    for event in events:
        if event.event in FINAL_EVENTS:
            assert event.endtime is not None and event.endtime >= event.starttime
            assert event.endtime - event.starttime >= timedelta(seconds=event.duration)
