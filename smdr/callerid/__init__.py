"""Code parsers for caller-ID sources: boxes and modems on analog lines, which report line events
(ring, caller number, off-hook, on-hook, dialled digits) instead of call records.

Each module reads one protocol (see docs/formats/callerid.md) and is registered under the
``smdr.parsers`` entry-point group; all of them fold with the ``line_state`` strategy
(smdr/folding/line_state.py), with times taken from when the bytes were received.
"""
