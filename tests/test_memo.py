"""smdr.memo: a bounded memo forgets its oldest entries one at a time, never all at once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from smdr.eventjson import EventJson
from smdr.memo import LIMIT, Memo
from smdr.model import CallEvent
from smdr.normalize import Localizer, PhoneRules, zone


def test_a_full_memo_forgets_only_its_oldest_entry() -> None:
    memo: Memo[int, str] = Memo(limit=3)
    for key in range(3):
        assert memo.put(key, str(key)) == str(key)
    memo.put(3, "3")
    assert memo.entries == {1: "1", 2: "2", 3: "3"}
    memo.put(4, "4")
    assert memo.entries == {2: "2", 3: "3", 4: "4"}
    assert len(memo) == 3


def test_a_key_put_again_is_forgotten_at_its_first_place_and_the_order_stays_bounded() -> None:
    memo: Memo[str, int] = Memo(limit=2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("a", 10)  # the memo is full: "a" (first place) is forgotten, then held again
    assert memo.entries == {"b": 2, "a": 10}
    memo.put("c", 3)
    assert memo.entries == {"a": 10, "c": 3}
    for _ in range(1_000):  # the same key again and again: the order never grows past the limit
        memo.put("d", 4)
    assert memo.entries == {"d": 4} and len(memo._order) == 2


def test_a_memo_never_holds_more_than_its_limit_and_hot_readers_see_the_same_dict() -> None:
    memo: Memo[int, int] = Memo(limit=100)
    entries = memo.entries
    for key in range(1_000):
        memo.put(key, key * 2)
        assert len(entries) <= 100
    assert entries is memo.entries and sorted(entries) == list(range(900, 1_000))


def test_a_memo_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError):
        Memo(limit=0)


def test_the_engine_memos_stay_bounded_and_keep_their_answers() -> None:
    phone = PhoneRules()
    for n in range(LIMIT + 500):
        number = f"0912{n:07d}"
        assert phone.normalize(number, "inbound") == (number, "inbound")
    assert len(phone.memo) == LIMIT
    assert phone.normalize("+989121234567", "inbound") == ("09121234567", "inbound")
    assert phone.memo.entries[("+989121234567", "inbound")] == ("09121234567", "inbound")

    localize = Localizer(zone("Asia/Tehran"))
    walls = [datetime(2026, 1, 1, n // 60 % 24, n % 60, n % 59) for n in range(LIMIT + 10)]
    for wall in walls:
        assert localize(wall).utcoffset() is not None
    assert len(localize.cache) <= LIMIT and walls[-1] in localize.cache and walls[0] not in localize.cache


def test_event_json_still_writes_each_time_after_its_memo_of_times_forgot_some() -> None:
    tz = zone("Asia/Tehran")
    writer = EventJson()
    first = CallEvent("id", "inbound", "ringing", starttime=datetime(2026, 1, 1, 8, 0, 0, tzinfo=tz))
    line = writer.line(first)
    for n in range(LIMIT + 50):  # the times of other minutes push the first one's minute out of the memo
        writer.line(CallEvent("id", "inbound", "ringing", starttime=datetime(2026, 1, 2, tzinfo=tz) + timedelta(
            minutes=n, seconds=n % 60)))
    start = first.starttime
    assert start.toordinal() * 1440 + start.hour * 60 + start.minute not in writer._minutes
    assert writer.line(first) == line and '"starttime": "2026-01-01T08:00:00+03:30"' in line
