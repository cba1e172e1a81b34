"""A CallEvent as one JSON line, byte for byte what ``json.dumps(event.to_dict(), ensure_ascii=False)`` gives.

``smdr parse`` writes one per event; ``json.dumps`` with an option builds a new encoder on every
call, ``to_dict`` a dict of dicts, and an aware ``isoformat`` costs most of a microsecond. Here the
text of each value comes from the json module's own string encoder, the words a stream repeats
(direction, event, gateway, source, layout, agent, CO line) and the minutes of the times from bounded
caches, and the line from one template in ``to_dict``'s key order. Anything that is not the type the
model declares goes through the json module instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from json.encoder import encode_basestring as _quote  # the C encoder where available: what json.dumps uses

from .memo import Memo
from .model import CallEvent

_ENCODER = json.JSONEncoder(ensure_ascii=False)
_SECONDS = tuple(f"{second:02d}" for second in range(60))


class EventJson:
    """``line(event)``: the event's JSON text (no line end); ``lines(events)``: theirs, each ended by
    a newline, as one string. One per output stream."""

    __slots__ = ("_minute_memo", "_minutes", "_word_memo", "_words", "_head_source", "_head_layout", "_head")

    def __init__(self) -> None:
        # a minute's text before and after its second, by the minute; an entry is used only for a time of the
        # same zone object and fold: equal aware datetimes of two zones, or of both sides of a DST change,
        # print differently
        self._minute_memo: Memo[int, tuple[object, int, str, str]] = Memo()
        self._minutes = self._minute_memo.entries
        self._word_memo: Memo[object, str] = Memo()  # the repeated words' JSON text
        self._words = self._word_memo.entries
        # the provenance's start, for the last source and layout seen (the same objects, event after event)
        self._head_source: object = None
        self._head_layout: object = None
        self._head = ""

    def lines(self, events: Iterable[CallEvent]) -> str:
        line = self._line_or_json
        return "".join([line(event, "\n") for event in events])

    def line(self, e: CallEvent) -> str:
        return self._line_or_json(e, "")

    def _line_or_json(self, e: CallEvent, line_end: str) -> str:
        try:
            return self._line(e, line_end)
        except TypeError:  # a value of another type than the model's: let the json module write it
            return _ENCODER.encode(e.to_dict()) + line_end

    def _word(self, value: object) -> str:
        if value is None:
            return "null"
        # TypeError for anything but a str: the json module writes it
        return self._word_memo.put(value, _quote(value))  # type: ignore[arg-type]

    def _time(self, value: datetime) -> str:
        """A time's JSON text: its minute's (date, hour and minute; the zone's offset) from the memo, and its
        second. Most times are printed once (an end is its start plus the talk), their minutes again and
        again: an isoformat for each time was a sixth of ``smdr parse``'s CPU."""
        # the wall minute as a number (an aware datetime as the key would be hashed through its zone: slow)
        minute = value.toordinal() * 1440 + value.hour * 60 + value.minute
        hit = self._minutes.get(minute)
        if hit is None or hit[0] is not value.tzinfo or hit[1] != value.fold:
            # YYYY-MM-DDTHH:MM:SS, then the offset if any: nothing the json encoder escapes
            text = value.isoformat(timespec="seconds")
            hit = self._minute_memo.put(minute, (value.tzinfo, value.fold, '"' + text[:17], text[19:] + '"'))
        return f"{hit[2]}{_SECONDS[value.second]}{hit[3]}"

    def _provenance_head(self, source: object, layout: object) -> str:
        words = self._words
        head = (f'{{"source": {words.get(source) or self._word(source)}, '
                f'"layout": {words.get(layout) or self._word(layout)}, "raw": ')
        self._head_source, self._head_layout, self._head = source, layout, head
        return head

    def _line(self, e: CallEvent, line_end: str) -> str:
        words = self._words
        duration, bill = e.duration, e.billduration
        if type(duration) is not int or (bill is not None and type(bill) is not int):
            raise TypeError("not an int")  # json writes a bool as true, str() as True
        start, end = e.starttime, e.endtime
        start_text = "null" if start is None else self._time(start)
        end_text = "null" if end is None else self._time(end)
        p = e.provenance
        if p is None:
            provenance = "null"
        else:
            if type(p.position) is not int:
                raise TypeError("not an int")
            received = p.received_at
            received_text = "null" if received is None else self._time(received)
            source, layout = p.source, p.layout
            head = (self._head if source is self._head_source and layout is self._head_layout
                    else self._provenance_head(source, layout))
            provenance = f'{head}{_quote(p.raw)}, "position": {p.position}, "received_at": {received_text}}}'
        agent, phone, linename, url = e.agent, e.phone, e.linename, e.recordingurl
        # an extension and a CO line come back call after call: their text from the memo too
        return (f'{{"agent": {"null" if agent is None else words.get(agent) or self._word(agent)}, '
                f'"phone": {"null" if phone is None else _quote(phone)}, '
                f'"call_id": {_quote(e.call_id)}, "direction": {words.get(e.direction) or self._word(e.direction)}, '
                f'"event": {words.get(e.event) or self._word(e.event)}, "duration": {duration}, '
                f'"billduration": {duration if bill is None else bill}, '
                f'"gateway": {words.get(e.gateway) or self._word(e.gateway)}, '
                f'"linename": {"null" if linename is None else words.get(linename) or self._word(linename)}, '
                f'"recordingurl": {"null" if url is None else _quote(url)}, '
                f'"starttime": {start_text}, "endtime": {end_text}, "provenance": {provenance}}}{line_end}')
