"""The README walkthrough parser and matcher the examples' e2e test relies on."""

from __future__ import annotations

import pytest

from tests.support import walkthroughs

README = """# An example

<!-- test: display -->
```sh
ripple event display --reply t
```

<!-- test: run -->
```sh
ripple event send --to broker:b --type a --source /s
echo done
```

<!-- test: run-output -->
```text
Event sent to http://127.0.0.1:8080/default/b: id=…, status 202
```

<!-- test: display-output -->
```text
☁️  cloudevents.Event
Request: POST /first
  id: …

☁️  cloudevents.Event
Request: POST /second
```
"""


def test_parse_reads_each_marked_block() -> None:
    walk = walkthroughs.parse(README)
    assert walk.display == "ripple event display --reply t"
    assert walk.run == "ripple event send --to broker:b --type a --source /s\necho done"
    assert walk.run_output == ["Event sent to http://127.0.0.1:8080/default/b: id=…, status 202"]
    assert walk.display_output == [["☁️  cloudevents.Event", "Request: POST /first", "  id: …"],
                                   ["☁️  cloudevents.Event", "Request: POST /second"]]


@pytest.mark.parametrize(("readme", "message"), [
    ("<!-- test: shown -->\n```sh\nx\n```", "unknown block"),
    ("<!-- test: run -->\n```sh\nx\n```\n<!-- test: run -->\n```sh\ny\n```", "two"),
])
def test_parse_refuses(readme: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        walkthroughs.parse(readme)


@pytest.mark.parametrize(("expected", "actual", "matches"), [
    ("  id: …", "  id: 42", True),
    ("  id: …", "  type: x", False),
    ("  type: a.b", "  type: aXb", False),  # a dot is a dot
    ("  type: a", "  type: ab", False),  # the whole line
    ("…/default/b: id=…, status 202", "Event sent to http://h/default/b: id=1, status 202", True),
])
def test_line_matches(expected: str, actual: str, matches: bool) -> None:
    assert walkthroughs.line_matches(expected, actual) is matches


OUTPUT = """Displaying CloudEvents sent to http://127.0.0.1:1/
☁️  cloudevents.Event
Request: POST /second
  id: 2

☁️  cloudevents.Event
Request: POST /first
  id: 1
"""


@pytest.mark.parametrize(("expected", "missing"), [
    ([["Request: POST /first", "  id: …"], ["Request: POST /second"]], []),
    ([["Request: POST /first"], ["Request: POST /first"]], [["Request: POST /first"]]),
    ([["  id: 1", "Request: POST /first"]], [["  id: 1", "Request: POST /first"]]),  # order
    ([["Request: POST /third"]], [["Request: POST /third"]]),
])
def test_unmatched(expected: list[list[str]], missing: list[list[str]]) -> None:
    printed = walkthroughs.split_events(OUTPUT)
    assert len(printed) == 2
    assert walkthroughs.unmatched(expected, printed) == missing
