"""An example's README as a test script: its marked blocks, and matching what they promise.

Each example in manifests/examples/ has a README.md whose fenced blocks, each preceded by
an HTML comment that GitHub does not render, say what to run and what you will see:

- `<!-- test: display -->`: the `ripple event display ...` command to start first;
- `<!-- test: run -->`: shell commands to run once the example's resources are Ready;
- `<!-- test: run-output -->`: lines those commands print, in order (others may come
  between them);
- `<!-- test: display-output -->`: the events the display prints, one block per event,
  blocks separated by a blank line, in any order (a Parallel's branches race).

In an expected line `…` stands for text that changes from run to run (ids, times). An
expected event matches a printed one whose lines contain the expected lines in order.
Used by tests/e2e/test_examples.py; pure, and table-tested in tests/unit.
"""

from __future__ import annotations

import dataclasses
import re

_BLOCK = re.compile(r"<!-- test: ([a-z-]+) -->[ \t]*\n```[a-z]*\n(.*?)\n```", re.S)
KINDS = ("display", "run", "run-output", "display-output")
EVENT_START = "☁️  cloudevents.Event"
WILDCARD = "…"


@dataclasses.dataclass(frozen=True)
class Walkthrough:
    display: str | None
    run: str
    run_output: list[str]
    display_output: list[list[str]]


def parse(readme: str) -> Walkthrough:
    """The marked blocks of a README; each kind at most once, an unknown kind refused."""
    found: dict[str, str] = {}
    for kind, body in _BLOCK.findall(readme):
        if kind not in KINDS:
            raise ValueError(f"unknown block '<!-- test: {kind} -->'; known: {', '.join(KINDS)}")
        if kind in found:
            raise ValueError(f"two '<!-- test: {kind} -->' blocks")
        found[kind] = body
    events = [block.splitlines() for block in re.split(r"\n\s*\n", found.get("display-output", ""))
              if block.strip()]
    return Walkthrough(
        display=found.get("display"),
        run=found.get("run", ""),
        run_output=[line for line in found.get("run-output", "").splitlines() if line.strip()],
        display_output=events,
    )


def line_matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.rstrip().split(WILDCARD))
    return re.fullmatch(pattern, actual.rstrip()) is not None


def contains_in_order(expected: list[str], actual: list[str]) -> bool:
    """Whether every expected line matches a line of `actual`, in order."""
    lines = iter(actual)
    return all(any(line_matches(want, have) for have in lines) for want in expected)


def split_events(output: str) -> list[list[str]]:
    """The display's output, one list of lines per event printed."""
    events: list[list[str]] = []
    for line in output.splitlines():
        if line.startswith(EVENT_START):
            events.append([])
        if events and line.strip():
            events[-1].append(line)
    return events


def unmatched(expected: list[list[str]], printed: list[list[str]]) -> list[list[str]]:
    """The expected events that no printed event matches; each printed event matches once."""
    left = list(printed)
    missing = []
    for want in expected:
        hit = next((i for i, have in enumerate(left) if contains_in_order(want, have)), None)
        if hit is None:
            missing.append(want)
        else:
            del left[hit]
    return missing
