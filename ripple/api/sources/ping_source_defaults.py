"""PingSource defaulting (Knative's `ping_defaults.go`), run by `loading.admit`.

Sets the namespace, an empty spec when there is none, the schedule `* * * * *` (every
minute) when it is absent or empty, as upstream, and the namespace of the sink ref
(`source_spec.set_defaults`). The time zone is not defaulted: unset means UTC to
`ripple.cron`, and a stored object keeps what its author wrote.
"""

from __future__ import annotations

from typing import Any

from ripple.api import meta
from ripple.api.sources import ping_source_types, source_spec


def set_defaults(source: dict[str, Any]) -> None:
    meta.set_defaults(source)
    namespace, _ = meta.key(source)
    if source.get("spec") is None:
        source["spec"] = {}
    spec = source["spec"]
    if not isinstance(spec, dict):
        return
    if spec.get("schedule") is None or spec.get("schedule") == "":
        spec["schedule"] = ping_source_types.DEFAULT_SCHEDULE
    source_spec.set_defaults(spec, namespace)
