"""A CallEvent as one JSON line, byte for byte what ``json.dumps(event.to_dict(), ensure_ascii=False)`` gives.

``smdr parse`` writes one per event; ``json.dumps`` with an option builds a new encoder on every
call, ``to_dict`` a dict of dicts, and ``isoformat`` costs a microsecond per time. Here the text of
each value comes from the json module's own string encoder, the times from a bounded cache (a day
of calls has few distinct seconds), and the line from one template in ``to_dict``'s key order.
Anything that is not the type the model declares goes through the json module instead.
"""

from __future__ import annotations

import json
from datetime import datetime
from json.encoder import encode_basestring as _quote  # the C encoder where available: what json.dumps uses

from .model import CallEvent

_CACHE_LIMIT = 8192
_ENCODER = json.JSONEncoder(ensure_ascii=False)


class EventJson:
    """``line(event)``: the event's JSON text (no line end). One per output stream."""

    __slots__ = ("_times",)

    def __init__(self) -> None:
        # (time, zone, fold): equal aware datetimes of two zones, or of both sides of a DST change,
        # print differently, so the zone and the fold are part of the key
        self._times: dict[tuple[datetime, object, int], str] = {}

    def _time(self, value: datetime | None) -> str:
        if value is None:
            return "null"
        key = (value, value.tzinfo, value.fold)
        text = self._times.get(key)
        if text is None:
            if len(self._times) >= _CACHE_LIMIT:
                self._times.clear()
            # without microseconds, isoformat() prints the same as timespec="seconds", a third faster
            text = value.isoformat(timespec="seconds") if value.microsecond else value.isoformat()
            text = self._times[key] = _quote(text)
        return text

    def line(self, event: CallEvent) -> str:
        try:
            return self._line(event)
        except TypeError:  # a value of another type than the model's: let the json module write it
            return _ENCODER.encode(event.to_dict())

    def _line(self, e: CallEvent) -> str:
        if type(e.duration) is not int or (e.billduration is not None and type(e.billduration) is not int):
            raise TypeError("not an int")  # json writes a bool as true, str() as True
        p = e.provenance
        if p is None:
            provenance = "null"
        else:
            if type(p.position) is not int:
                raise TypeError("not an int")
            provenance = (f'{{"source": {_quote(p.source)}, "layout": {_quote(p.layout)}, "raw": {_quote(p.raw)}, '
                          f'"position": {p.position}, "received_at": {self._time(p.received_at)}}}')
        null = "null"
        return (f'{{"agent": {null if e.agent is None else _quote(e.agent)}, '
                f'"phone": {null if e.phone is None else _quote(e.phone)}, '
                f'"call_id": {_quote(e.call_id)}, "direction": {_quote(e.direction)}, "event": {_quote(e.event)}, '
                f'"duration": {e.duration}, '
                f'"billduration": {e.duration if e.billduration is None else e.billduration}, '
                f'"gateway": {null if e.gateway is None else _quote(e.gateway)}, '
                f'"linename": {null if e.linename is None else _quote(e.linename)}, '
                f'"recordingurl": {null if e.recordingurl is None else _quote(e.recordingurl)}, '
                f'"starttime": {self._time(e.starttime)}, "endtime": {self._time(e.endtime)}, '
                f'"provenance": {provenance}}}')
