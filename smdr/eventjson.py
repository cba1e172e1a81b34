"""A CallEvent as one JSON line, byte for byte what ``json.dumps(event.to_dict(), ensure_ascii=False)`` gives.

``smdr parse`` writes one per event; ``json.dumps`` with an option builds a new encoder on every
call, ``to_dict`` a dict of dicts, and an aware ``isoformat`` costs most of a microsecond. Here the
text of each value comes from the json module's own string encoder, the words a stream repeats
(direction, event, gateway, source and layout) and the times from bounded caches, and the line from
one template in ``to_dict``'s key order. Anything that is not the type the model declares goes
through the json module instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from json.encoder import encode_basestring as _quote  # the C encoder where available: what json.dumps uses

from .memo import Memo
from .model import CallEvent

_ENCODER = json.JSONEncoder(ensure_ascii=False)


class EventJson:
    """``line(event)``: the event's JSON text (no line end); ``lines(events)``: theirs, each ended by
    a newline, as one string. One per output stream."""

    __slots__ = ("_time_memo", "_times", "_word_memo", "_words")

    def __init__(self) -> None:
        # a time's text, by the time; an entry is used only for a time of the same zone object and
        # fold: equal aware datetimes of two zones, or of both sides of a DST change, print differently
        self._time_memo: Memo[datetime, tuple[object, int, str]] = Memo()
        self._times = self._time_memo.entries
        self._word_memo: Memo[object, str] = Memo()  # the repeated words' JSON text
        self._words = self._word_memo.entries

    def lines(self, events: Iterable[CallEvent]) -> str:
        line = self.line
        return "".join([line(event) + "\n" for event in events])

    def line(self, e: CallEvent) -> str:
        try:
            return self._line(e)
        except TypeError:  # a value of another type than the model's: let the json module write it
            return _ENCODER.encode(e.to_dict())

    def _word(self, value: object) -> str:
        if value is None:
            return "null"
        # TypeError for anything but a str: the json module writes it
        return self._word_memo.put(value, _quote(value))  # type: ignore[arg-type]

    def _time(self, value: datetime) -> str:
        # isoformat prints digits, signs, colons, a dot and a T: nothing the json encoder escapes
        text = '"' + (value.isoformat(timespec="seconds") if value.microsecond else value.isoformat()) + '"'
        self._time_memo.put(value, (value.tzinfo, value.fold, text))
        return text

    def _line(self, e: CallEvent) -> str:
        words, times = self._words, self._times
        duration, bill = e.duration, e.billduration
        if type(duration) is not int or (bill is not None and type(bill) is not int):
            raise TypeError("not an int")  # json writes a bool as true, str() as True
        start, end = e.starttime, e.endtime
        if start is None:
            start_text = "null"
        else:
            hit = times.get(start)
            start_text = hit[2] if hit and hit[0] is start.tzinfo and hit[1] == start.fold else self._time(start)
        if end is None:
            end_text = "null"
        else:
            hit = times.get(end)
            end_text = hit[2] if hit and hit[0] is end.tzinfo and hit[1] == end.fold else self._time(end)
        p = e.provenance
        if p is None:
            provenance = "null"
        else:
            if type(p.position) is not int:
                raise TypeError("not an int")
            received = p.received_at
            if received is None:
                received_text = "null"
            else:
                hit = times.get(received)
                received_text = (hit[2] if hit and hit[0] is received.tzinfo and hit[1] == received.fold
                                 else self._time(received))
            provenance = (f'{{"source": {words.get(p.source) or self._word(p.source)}, '
                          f'"layout": {words.get(p.layout) or self._word(p.layout)}, "raw": {_quote(p.raw)}, '
                          f'"position": {p.position}, "received_at": {received_text}}}')
        agent, phone, linename, url = e.agent, e.phone, e.linename, e.recordingurl
        return (f'{{"agent": {"null" if agent is None else _quote(agent)}, '
                f'"phone": {"null" if phone is None else _quote(phone)}, '
                f'"call_id": {_quote(e.call_id)}, "direction": {words.get(e.direction) or self._word(e.direction)}, '
                f'"event": {words.get(e.event) or self._word(e.event)}, "duration": {duration}, '
                f'"billduration": {duration if bill is None else bill}, '
                f'"gateway": {words.get(e.gateway) or self._word(e.gateway)}, '
                f'"linename": {"null" if linename is None else _quote(linename)}, '
                f'"recordingurl": {"null" if url is None else _quote(url)}, '
                f'"starttime": {start_text}, "endtime": {end_text}, "provenance": {provenance}}}')
