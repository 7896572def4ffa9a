"""Trigger filters: Knative's `pkg/eventfilter`, one small module per dialect.

The broker fan-out is the caller. It compiles a Trigger's `spec` into a plain callable
(`compile_trigger`), or keeps many in a `FilterIndex` and asks it which match an event.
A filter takes the event's context attributes (lower-case names, extensions included)
and returns pass or fail.

    broker.filters
    ├── values       the Filter type and how attribute values become text
    ├── attributes   legacy `spec.filter.attributes`
    ├── exact, prefix, suffix, logical (all/any/not), cesql   the `spec.filters` dialects
    ├── compiling    spec -> Filter, with upstream's precedence and skipping rules
    └── indexing     FilterIndex
"""

from __future__ import annotations

from broker.filters.compiling import compile_trigger
from broker.filters.indexing import FilterIndex
from broker.filters.values import Attributes, Filter

__all__ = ["Attributes", "Filter", "FilterIndex", "compile_trigger"]
