"""Which date order a PBX prints, from the sequence of its records (never from the layout's name).

Evidence (each record or step counts one; a capture that shows both orders is reported as such):
- a record that is a date in one order only (a day above 12 where the other order wants the month);
- times running through midnight (a late time, then an early one) while the date advances one day;
- consecutive records' dates staying close (a day or two apart) in one order and jumping months in
  the other: a PBX prints its records in time order, give or take the length of a call.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import time

from ..layouts import Record
from .trial import Trial

COMPETING = ("MDY", "DMY")   # YMD is read from a 4-digit year first, whatever the order: it never competes
CLOSE_DAYS = 2
_LATE, _EARLY = time(20, 0), time(4, 0)


@dataclass(slots=True)
class DateOrder:
    order: str
    proven: bool                    # the capture shows it; otherwise it is the layout's default
    evidence: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # evidence for another order
    order_free: bool = False        # every order reads every date the same (year first, or no date)


def snippet(record: Record, width: int = 26) -> str:
    return " ".join(record.raw.split())[:width]


def infer(trials: dict[str, Trial], default: str) -> DateOrder:
    """The date order of one layout's trials (one trial per order tried)."""
    competing = [o for o in COMPETING if o in trials]
    if len(competing) < 2:
        return DateOrder(default, False, [f"{default}: the only order this layout can be tried in"])
    a, b = (trials[o] for o in competing)
    if same_dates(list(trials.values())):
        return DateOrder(default, False, ["every order reads these dates the same (the year comes first, "
                                          "or the records carry no date): nothing to choose"], order_free=True)
    hard = {a.order: _only_in(a, b), b.order: _only_in(b, a)}
    soft = _sequence_votes(a, b)
    hard_n = {o: len(v) for o, v in hard.items()}
    soft_n = {o: len(v) for o, v in soft.items()}
    weight = {o: hard_n[o] + soft_n[o] for o in competing}
    if weight[a.order] != weight[b.order] or hard_n[a.order] != hard_n[b.order]:
        # a capture that mixes orders (a clock set again, a reprint): the larger weight of evidence wins,
        # and on equal weight the records that are no date at all in the other order
        winner = max(competing, key=lambda o: (weight[o], hard_n[o]))
    else:
        return DateOrder(default, False, [f"the capture does not show the order (no day above 12, no change of "
                                          f"date in it that only one order explains): {default} is the "
                                          f"layout's default"])
    loser = b.order if winner == a.order else a.order
    result = DateOrder(winner, True)
    if hard[winner]:
        result.evidence.append(_hard_text(hard[winner], winner, trials[loser]))
    if soft[winner]:
        result.evidence.append(_soft_text(soft[winner], winner, loser))
    if hard[loser]:
        result.conflicts.append(_hard_text(hard[loser], loser, trials[winner]))
    if soft[loser]:
        result.conflicts.append(_soft_text(soft[loser], loser, winner))
    return result


def same_dates(trials: list[Trial]) -> bool:
    first = trials[0]
    for other in trials[1:]:
        if other.records.keys() != first.records.keys():
            return False
        if any(first.records[i].when != other.records[i].when for i in first.records):
            return False
    return True


def _only_in(trial: Trial, other: Trial) -> list[int]:
    """Lines this order takes (records, and date records it skips) and the other order rejects."""
    taken = sorted(trial.records.keys() | trial.skipped.keys())
    return [i for i in taken if i in other.rejected]


@dataclass(slots=True)
class _Vote:
    kind: str        # "midnight" or "close"
    first: Record
    then: Record
    days: int        # date step in the voting order
    other_days: int  # date step in the other order


def _sequence_votes(a: Trial, b: Trial) -> dict[str, list[_Vote]]:
    """Steps between consecutive records (read in both orders) that only one order makes plausible."""
    votes: dict[str, list[_Vote]] = {a.order: [], b.order: []}
    both = sorted(a.records.keys() & b.records.keys())
    for prev, cur in itertools.pairwise(both):
        pa, ca, pb, cb = a.records[prev], a.records[cur], b.records[prev], b.records[cur]
        step_a = (ca.when.date() - pa.when.date()).days
        step_b = (cb.when.date() - pb.when.date()).days
        if step_a == step_b:
            continue
        if pa.when.time() >= _LATE and ca.when.time() < _EARLY and 1 in (step_a, step_b):
            winner, days, other = (a.order, step_a, step_b) if step_a == 1 else (b.order, step_b, step_a)
            first, then = (pa, ca) if winner == a.order else (pb, cb)
            votes[winner].append(_Vote("midnight", first, then, days, other))
            continue
        close_a, close_b = abs(step_a) <= CLOSE_DAYS, abs(step_b) <= CLOSE_DAYS
        if close_a != close_b:
            if close_a:
                votes[a.order].append(_Vote("close", pa, ca, step_a, step_b))
            else:
                votes[b.order].append(_Vote("close", pb, cb, step_b, step_a))
    return votes


def _hard_text(indices: list[int], order: str, other: Trial) -> str:
    first = indices[0]
    return (f"{len(indices)} record(s) are dates only as {order}, e.g. record {first + 1}: "
            f"{other.order} would quarantine it ({other.rejected[first]})")


def _soft_text(votes: list[_Vote], order: str, other: str) -> str:
    parts = []
    midnight = [v for v in votes if v.kind == "midnight"]
    close = [v for v in votes if v.kind == "close"]
    if midnight:
        v = midnight[0]
        parts.append(f"{len(midnight)} time(s) the clock runs through midnight and the date advances one day "
                     f"only as {order} ('{snippet(v.first)}' then '{snippet(v.then)}'; as {other}: "
                     f"{v.other_days:+d} days)")
    if close:
        v = close[0]
        parts.append(f"{len(close)} change(s) of date between consecutive records stay within {CLOSE_DAYS} days "
                     f"only as {order} ('{snippet(v.first)}' then '{snippet(v.then)}': {v.days:+d} day(s); "
                     f"as {other}: {v.other_days:+d})")
    return "; ".join(parts)
