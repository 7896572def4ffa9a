"""GitHubSource (`sources.knative.dev/v1alpha1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.sources`, so importing `ripple.api` serves GitHubSources. The
concerns live next door, as in eventing-github's `pkg/apis/sources/v1alpha1`:
`github_source_types`, `_defaults`, `_validation` and `_lifecycle`.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.sources import (
    github_source_defaults,
    github_source_types,
    github_source_validation,
)

KIND = registry.register(registry.Kind(
    group=github_source_types.GROUP,
    version=github_source_types.VERSION,
    kind=github_source_types.KIND,
    plural="githubsources",
    singular="githubsource",
    set_defaults=github_source_defaults.set_defaults,
    validate=github_source_validation.validate,
))
