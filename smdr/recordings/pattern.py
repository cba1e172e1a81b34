"""What a recorder's file name says about its call: line, number and time, by a configurable pattern.

    {time:%Y%m%d-%H%M%S}_L{line}_{number}.wav     ->  20260114-101502_L1_09121234567.wav
    {time:%Y/%m/%d}/{time:%H%M%S}-{line}-{number}.*   (folders by date; * is any text)

``{line}`` and ``{number}`` take any text but '/', ``{time:FORMAT}`` the strftime directives below
(several of them may split date and time over folders and name), ``*`` any text. The pattern
matches the path relative to the watched folder, with '/' between folders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..evidence import ascii_digits
from ..normalize import Localizer

_DIRECTIVES = {"Y": (r"\d{4}", "year"), "y": (r"\d{2}", "year2"), "m": (r"\d{1,2}", "month"),
               "d": (r"\d{1,2}", "day"), "H": (r"\d{1,2}", "hour"), "M": (r"\d{2}", "minute"),
               "S": (r"\d{2}", "second")}
_TOKEN = re.compile(r"\{(line|number|time)(?::([^}]*))?\}|\*")


class PatternError(ValueError):
    pass


@dataclass(slots=True)
class FileFacts:
    line: str | None
    number: str | None
    time: datetime | None   # aware, in the site's zone; None when the name carries no time


class FilenamePattern:
    def __init__(self, text: str) -> None:
        self.text = text
        self.fields: set[str] = set()
        self.regex = re.compile(self._compile(text))

    def _compile(self, text: str) -> str:
        out, position, used = [], 0, set()
        for match in _TOKEN.finditer(text):
            out.append(re.escape(text[position:match.start()]))
            position = match.end()
            name, fmt = match.group(1), match.group(2)
            if name is None:
                out.append(r"[^/]*?")
            elif name == "time":
                out.append(self._time(fmt or "%Y%m%d%H%M%S", used))
                self.fields.add("time")
            else:
                if name in used:
                    raise PatternError(f"{{{name}}} appears twice in {text!r}")
                used.add(name)
                self.fields.add(name)
                out.append(rf"(?P<{name}>[^/]+?)" if name == "line" else rf"(?P<{name}>[^/]*?)")
        out.append(re.escape(text[position:]))
        if "time" in self.fields and not ({"hour", "minute"} <= used and "day" in used and "month" in used
                                          and used & {"year", "year2"}):
            raise PatternError(f"{{time:...}} in {text!r} needs the year, month, day, hour and minute "
                               "(%Y or %y, %m, %d, %H, %M)")
        return "".join(out)

    @staticmethod
    def _time(fmt: str, used: set[str]) -> str:
        out, i = [], 0
        while i < len(fmt):
            ch = fmt[i]
            if ch == "%" and i + 1 < len(fmt):
                code = fmt[i + 1]
                if code not in _DIRECTIVES:
                    raise PatternError(f"%{code} is not supported in {{time:...}} (use %Y %y %m %d %H %M %S)")
                regex, group = _DIRECTIVES[code]
                if group in used:
                    out.append(f"(?P={group})")
                else:
                    used.add(group)
                    out.append(f"(?P<{group}>{regex})")
                i += 2
                continue
            out.append(re.escape(ch))
            i += 1
        return "".join(out)

    def read(self, relative: str, localize: Localizer) -> FileFacts | None:
        """The facts in a path relative to the folder ('/' separated), or None if it does not fit."""
        match = self.regex.fullmatch(ascii_digits(relative))
        if match is None:
            return None
        groups = match.groupdict()
        when = None
        if "time" in self.fields:
            year = int(groups["year"]) if groups.get("year") else 2000 + int(groups["year2"])
            try:
                when = localize(datetime(year, int(groups["month"]), int(groups["day"]), int(groups["hour"]),
                                         int(groups["minute"]), int(groups.get("second") or 0)))
            except ValueError:
                return None
        line = groups.get("line") or None
        number = groups.get("number") or None
        return FileFacts(line, number, when)
