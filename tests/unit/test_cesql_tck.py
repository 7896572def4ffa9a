"""The CloudEvents SQL TCK (shared/testdata/cesql-tck, from cloudevents/spec) against ripple.cesql.

Every case must give its `result` and its `error` class. A case without `event` runs on a
minimal valid event with `eventOverrides` applied. YAML turns bare timestamps into
datetimes; an event carries them as strings, so they are turned back here.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from ripple import cesql

TCK = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "cesql-tck"
if not TCK.is_dir():
    pytest.skip(f"the CESQL TCK is not at {TCK}", allow_module_level=True)

BASE_EVENT = {"specversion": "1.0", "id": "tck", "source": "/tck", "type": "io.ripple.tck"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _cases() -> list[Any]:
    cases = []
    for path in sorted(TCK.glob("*.yaml")):
        suite = yaml.safe_load(path.read_text())
        for test in suite["tests"]:
            cases.append(pytest.param(test, id=f"{path.stem}: {test['name']}"))
    return cases


CASES = _cases()


def test_the_tck_is_all_there() -> None:
    assert len(CASES) >= 200


@pytest.mark.parametrize("case", CASES)
def test_tck(case: dict[str, Any]) -> None:
    # YAML reads `TRUE` and `0` as a bool and an int; CESQL keywords are case-insensitive,
    # so str() gives back an equivalent text.
    text = str(case["expression"])
    event = dict(case.get("event") or BASE_EVENT)
    event.update(case.get("eventOverrides") or {})
    event = {name: _plain(value) for name, value in event.items()}
    wanted = _plain(case.get("result"))

    if case.get("error") == "parse":
        with pytest.raises(cesql.ParseError) as raised:
            cesql.parse(text)
        assert raised.value.kind == "parse"
        assert wanted in (None, False)  # no value to compare: a filter would not pass
        return

    value, errors = cesql.parse(text).evaluate(event)
    assert [e.kind for e in errors] == ([case["error"]] if "error" in case else [])
    assert (type(value), value) == (type(wanted), wanted)
