"""GitHubSource defaulting (eventing-github's `githubsource_defaults.go`), run by `loading.admit`.

Sets the namespace, an empty spec when there is none, and the namespace of the sink ref
(`source_spec.set_defaults`). Upstream defaults nothing else: `githubAPIURL` stays unset
and the registrar falls back to `github_source_types.DEFAULT_API_URL`, so a stored object
keeps what its author wrote.
"""

from __future__ import annotations

from typing import Any

from ripple.api import meta
from ripple.api.sources import source_spec


def set_defaults(source: dict[str, Any]) -> None:
    meta.set_defaults(source)
    namespace, _ = meta.key(source)
    if source.get("spec") is None:
        source["spec"] = {}
    spec = source["spec"]
    if isinstance(spec, dict):
        source_spec.set_defaults(spec, namespace)
