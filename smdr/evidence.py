"""Whether two sources name the same line or the same number, each written its own way.

Shared by the parts that join what different devices report about one call (recordings, call spaces).
"""

from __future__ import annotations

import re

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_NOT_DIGITS = re.compile(r"\D")
_NUMBERED_LINE = re.compile(r"(?:co|line|l|ch)?\s*0*(\d+)")
MIN_SUFFIX = 7   # digits two spellings of one number share at least (09121234567 vs 9121234567)


def ascii_digits(text: str) -> str:
    """Persian and Arabic-Indic digits as ASCII (devices on Persian Windows write them)."""
    return text.translate(_DIGITS)


def same_number(a: str, b: str) -> bool:
    a, b = _NOT_DIGITS.sub("", ascii_digits(a)), _NOT_DIGITS.sub("", ascii_digits(b))
    if not a or not b:
        return False
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= MIN_SUFFIX and long.endswith(short)


def line_key(line: str) -> str:
    """``01``, ``1``, ``L1`` and ``CO 1`` are one line; other names compare as written, without case."""
    text = ascii_digits(str(line).strip()).lower()
    numbered = _NUMBERED_LINE.fullmatch(text)
    return numbered.group(1) if numbered else text


def same_line(a: str, b: str) -> bool:
    return line_key(a) == line_key(b)
