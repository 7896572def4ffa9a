"""GitLabSource (`sources.knative.dev/v1alpha1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.sources`, so importing `ripple.api` serves GitLabSources. The
concerns live next door, as in eventing-gitlab's `pkg/apis/sources/v1alpha1`:
`gitlab_source_types`, `_defaults`, `_validation` and `_lifecycle`.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.sources import (
    gitlab_source_defaults,
    gitlab_source_types,
    gitlab_source_validation,
)

KIND = registry.register(registry.Kind(
    group=gitlab_source_types.GROUP,
    version=gitlab_source_types.VERSION,
    kind=gitlab_source_types.KIND,
    plural="gitlabsources",
    singular="gitlabsource",
    set_defaults=gitlab_source_defaults.set_defaults,
    validate=gitlab_source_validation.validate,
))
