"""How much of a capture detection reads, and how few records read are "unknown".

Outside smdr.detect so that the command line can show them as option defaults without importing
detection (every layout, the trials): ``smdr parse --layout NAME`` never detects.
"""

from __future__ import annotations

MAX_BYTES = 64 * 1024
MAX_LINES = 2000
MIN_RECORDS = 3  # fewer records read than this is "unknown": a few lines of anything can parse
