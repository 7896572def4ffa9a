"""The SourceSpec and SourceStatus every source kind shares (Knative's `duck/v1/source_types.go`).

Each source kind's `*_defaults`, `*_validation` and `*_lifecycle` modules call these:
- `set_defaults(spec, namespace)`: the sink ref's namespace;
- `validate(spec, path, errs)`: `sink` (a Destination, required) and `ceOverrides`
  (`extensions`: a map of CloudEvent extension names to string values);
- `SinkMarks`: the `SinkProvided` condition and `status.sinkUri`, bound to a kind's own
  condition set, as `dead_letters.Marks` binds DeadLetterSinkResolved;
- `sink_uri(obj)` and `extensions(obj)`: what the data plane reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ripple.api import conditions, duck, fields
from ripple.errors import FieldError

SPEC_FIELDS = ("sink", "ceOverrides")
CE_OVERRIDES_FIELDS = ("extensions",)
SINK_PROVIDED = "SinkProvided"

# CloudEvents: attribute names are lower-case ASCII letters or digits.
_EXTENSION_NAME = re.compile(r"^[a-z0-9]+$")
_CORE_ATTRIBUTES = frozenset(("specversion", "id", "source", "type", "subject", "time",
                              "datacontenttype", "dataschema", "data", "data_base64"))

Status = dict[str, Any]


def set_defaults(spec: dict[str, Any], namespace: str) -> None:
    duck.default_destination(spec.get("sink"), namespace)


def validate(spec: dict[str, Any], path: str, errs: fields.Errors) -> None:
    """Knative's `SourceSpec.Validate`: a sink is required; ceOverrides names extensions."""
    sink = fields.required(spec, "sink", path, errs)
    if sink is not None:
        errs.extend(duck.validate_destination(sink, fields.join(path, "sink")))
    if fields.present(spec, "ceOverrides"):
        _validate_overrides(spec["ceOverrides"], fields.join(path, "ceOverrides"), errs)


def _validate_overrides(value: object, path: str, errs: fields.Errors) -> None:
    overrides = fields.mapping(value, path, errs)
    if overrides is None:
        return
    fields.known_fields(overrides, CE_OVERRIDES_FIELDS, path, errs)
    if not fields.present(overrides, "extensions"):
        return
    extensions_path = fields.join(path, "extensions")
    extensions = fields.string_map(overrides["extensions"], extensions_path, errs)
    for name in extensions or {}:
        name_path = fields.key(extensions_path, name)
        if not _EXTENSION_NAME.match(name):
            errs.append(FieldError(name_path, (
                "invalid extension name: CloudEvent attribute names are lower-case letters "
                "and digits only")))
        elif name in _CORE_ATTRIBUTES:
            errs.append(FieldError(name_path, (
                f'"{name}" is a core CloudEvent attribute, not an extension')))


@dataclass(frozen=True)
class SinkMarks:
    """`SinkProvided` and `status.sinkUri`: Knative's MarkSink and MarkNoSink."""

    condition_set: conditions.ConditionSet
    type: str = SINK_PROVIDED

    def sink(self, status: Status, uri: str, *, now: datetime) -> None:
        status["sinkUri"] = uri
        self.condition_set.mark_true(status, self.type, now=now)

    def no_sink(self, status: Status, reason: str, message: str, *, now: datetime) -> None:
        status.pop("sinkUri", None)
        self.condition_set.mark_false(status, self.type, reason, message, now=now)


def sink_uri(obj: dict[str, Any]) -> str | None:
    """The sink URI the reconciler resolved into `status.sinkUri`, if any."""
    status = obj.get("status")
    uri = status.get("sinkUri") if isinstance(status, dict) else None
    return uri if isinstance(uri, str) and uri else None


def extensions(obj: dict[str, Any]) -> dict[str, str]:
    """`spec.ceOverrides.extensions`: added to every event the source emits."""
    overrides = (obj.get("spec") or {}).get("ceOverrides") or {}
    found = overrides.get("extensions") if isinstance(overrides, dict) else None
    return dict(found) if isinstance(found, dict) else {}
