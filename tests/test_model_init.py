"""The classes on the hot path write their __init__ out (the compiled build compiles it; see hatch_build.py).
It must take the dataclass's fields in their order, with their defaults: compiled layouts build a Record by
position in that order, tracker_state saves an OpenCall's fields, and a new field must not be left out."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from smdr.compiled import is_compiled
from smdr.folding.base import OpenCall
from smdr.layouts.record import Record
from smdr.model import CallEvent, Provenance


@pytest.mark.skipif(is_compiled(), reason="compiled, __init__ has no Python signature: the source is checked")
@pytest.mark.parametrize("cls", [Record, CallEvent, Provenance, OpenCall])
def test_the_written_init_takes_the_fields_in_order_with_their_defaults(cls) -> None:
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = dataclasses.fields(cls)
    assert [p.name for p in parameters] == [f.name for f in fields]
    for parameter, field in zip(parameters, fields):
        default = inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
        assert parameter.default == default, field.name
        assert parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, field.name
