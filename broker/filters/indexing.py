"""`FilterIndex`: the triggers of a broker, found per event without trying each one.

Called by the broker fan-out: `put`/`remove` as triggers come and go, `match` once per
event. The goal is that an event's cost grows with the triggers that match it, not with
the triggers that exist.

Each trigger goes to one place, planned from its spec:

- exact: its filter is a conjunction with an equality `attribute == value` (a legacy
  attribute with a non-empty value, a top-level `exact`, or one inside a top-level
  `all`). It sits in the bucket for that pair; an event reads only the buckets for its
  own values. `type` is preferred, then `source`, as they split events the most.
- prefix: no equality, but a conjunct `prefix`. It sits under (attribute, prefix) in a
  `_PrefixTable`, which finds the prefixes of the event's value directly.
- always: the trigger filters nothing; it matches with no work.
- scan: anything else (suffix, any, not, cesql alone). Evaluated for every event.

Only candidates are evaluated, and not even those when the indexed condition is the
whole filter ("sufficient"): the lookup has already proven it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from broker.filters import attributes, compiling, values

if TYPE_CHECKING:
    from ripple.api.eventing.trigger_types import SubscriptionsAPIFilter, TriggerSpec

_PREFERRED = {"type": 0, "source": 1}


@dataclass(frozen=True)
class _Slot:
    kind: str  # "exact", "prefix", "always" or "scan"
    attribute: str = ""
    value: str = ""
    sufficient: bool = False


_ALWAYS = _Slot("always")
_SCAN = _Slot("scan")


def plan_slot(spec: TriggerSpec) -> _Slot:
    """Where a trigger (that filters something) goes; see the module docstring."""
    equalities: list[tuple[str, str]] = []
    prefixes: list[tuple[str, str]] = []
    expressions = spec.get("filters")
    if expressions:
        others = _collect(expressions, equalities, prefixes)
    else:
        expected = (spec.get("filter") or {}).get("attributes") or {}
        equalities.extend((n, v) for n, v in expected.items() if v != attributes.ANY_VALUE)
        others = len(expected) - len(equalities)
    sufficient = others == 0 and len(equalities) + len(prefixes) == 1
    if equalities:
        name, value = min(equalities, key=lambda pair: (_PREFERRED.get(pair[0], 2), pair[0]))
        return _Slot("exact", name, value, sufficient)
    if prefixes:
        # The longest prefix of the preferred attribute: the fewest false candidates.
        name, value = min(prefixes, key=lambda p: (_PREFERRED.get(p[0], 2), -len(p[1]), p[0]))
        return _Slot("prefix", name, value, sufficient)
    return _SCAN


def _collect(
    expressions: Sequence[SubscriptionsAPIFilter],
    equalities: list[tuple[str, str]],
    prefixes: list[tuple[str, str]],
) -> int:
    """Gather the conjunct equalities and prefixes; return how many other conjuncts exist.

    It walks with `compiling.select_dialect` and `values.pairs_are_usable`, so a map the
    compiler skips is skipped here too and never becomes a bucket. The count of others is
    conservative (an `any` whose children all get skipped still counts), which only
    costs an evaluation.
    """
    others = 0
    for expression in expressions:
        selected = compiling.select_dialect(expression)
        if selected is None:
            continue
        dialect, argument = selected
        if dialect == "all":
            others += _collect(argument, equalities, prefixes)
        elif dialect in ("exact", "prefix"):
            if values.pairs_are_usable(dialect, argument):
                found = equalities if dialect == "exact" else prefixes
                found.extend(argument.items())
        else:
            others += 1
    return others


class _PrefixTable:
    """The prefix triggers of one attribute, probed by the lengths in use.

    For a value of length L, `candidates` looks up `value[:n]` for each distinct prefix
    length n <= L: one hash lookup per length, and it yields only true prefixes. A sorted
    list with bisect was the alternative, but the prefixes of a value are not contiguous
    in sort order ("a" < "aa…" < "ab"), so it would walk every entry in between. Real
    triggers share few lengths, so the probes stay few.
    """

    def __init__(self) -> None:
        self._keys: dict[str, set[str]] = {}
        self._counts: Counter[int] = Counter()  # distinct prefixes per length
        self._lengths: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self._keys)

    def add(self, prefix: str, key: str) -> None:
        keys = self._keys.get(prefix)
        if keys is None:
            keys = self._keys[prefix] = set()
            self._counts[len(prefix)] += 1
            self._lengths = tuple(sorted(self._counts))
        keys.add(key)

    def discard(self, prefix: str, key: str) -> None:
        keys = self._keys.get(prefix)
        if keys is None:
            return
        keys.discard(key)
        if not keys:
            del self._keys[prefix]
            self._counts[len(prefix)] -= 1
            if not self._counts[len(prefix)]:
                del self._counts[len(prefix)]
            self._lengths = tuple(sorted(self._counts))

    def candidates(self, text: str) -> Iterator[str]:
        for length in self._lengths:
            if length > len(text):
                return
            keys = self._keys.get(text[:length])
            if keys:
                yield from keys


class FilterIndex:
    """The compiled filters of many triggers, by key, matched per event.

    `compiler` must compile like `compiling.compile_trigger`; tests pass a wrapper that
    counts evaluations.
    """

    def __init__(
        self,
        compiler: Callable[[TriggerSpec], values.Filter] = compiling.compile_trigger,
    ) -> None:
        self._compile = compiler
        self._filters: dict[str, values.Filter] = {}
        self._slots: dict[str, _Slot] = {}
        self._always: set[str] = set()
        self._scan: set[str] = set()
        self._sufficient: set[str] = set()
        self._exact: dict[str, dict[str, set[str]]] = {}
        self._prefix: dict[str, _PrefixTable] = {}

    def __len__(self) -> int:
        return len(self._filters)

    def put(self, key: str, spec: TriggerSpec) -> None:
        """Add the trigger under `key`, or replace the one there."""
        # Compile before removing, so a spec that fails to compile leaves the old filter.
        compiled = self._compile(spec)
        slot = _ALWAYS if compiled is compiling.pass_all else plan_slot(spec)
        self.remove(key)
        self._filters[key] = compiled
        self._slots[key] = slot
        if slot.sufficient:
            self._sufficient.add(key)
        if slot.kind == "always":
            self._always.add(key)
        elif slot.kind == "scan":
            self._scan.add(key)
        elif slot.kind == "exact":
            self._exact.setdefault(slot.attribute, {}).setdefault(slot.value, set()).add(key)
        else:
            self._prefix.setdefault(slot.attribute, _PrefixTable()).add(slot.value, key)

    def remove(self, key: str) -> None:
        """Forget the trigger under `key`; an unknown key is not an error."""
        slot = self._slots.pop(key, None)
        if slot is None:
            return
        del self._filters[key]
        self._sufficient.discard(key)
        self._always.discard(key)
        self._scan.discard(key)
        # Empty buckets and tables are dropped, so `match` never loops over dead ones.
        if slot.kind == "exact":
            buckets = self._exact[slot.attribute]
            keys = buckets[slot.value]
            keys.discard(key)
            if not keys:
                del buckets[slot.value]
                if not buckets:
                    del self._exact[slot.attribute]
        elif slot.kind == "prefix":
            table = self._prefix[slot.attribute]
            table.discard(slot.value, key)
            if not table:
                del self._prefix[slot.attribute]

    def match(self, attributes: values.Attributes) -> list[str]:
        """The keys of every trigger whose filter passes these attributes, in no order."""
        matched = list(self._always)
        self._evaluate(self._scan, attributes, matched)
        for name, buckets in self._exact.items():
            text = values.lookup_text(attributes, name)
            if text is not None:
                keys = buckets.get(text)
                if keys:
                    self._evaluate(keys, attributes, matched)
        for name, table in self._prefix.items():
            text = values.lookup_text(attributes, name)
            if text is not None:
                self._evaluate(table.candidates(text), attributes, matched)
        return matched

    def _evaluate(
        self, keys: Iterable[str], attributes: values.Attributes, into: list[str]
    ) -> None:
        filters, sufficient = self._filters, self._sufficient
        for key in keys:
            if key in sufficient or filters[key](attributes):
                into.append(key)
