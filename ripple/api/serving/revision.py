"""Revision (`serving.knative.dev/v1`, short name `rev`): registers the kind.

Imported by `ripple.api.serving`. The concerns live next door: `revision_types`,
`revision_defaults`, `revision_validation` (with `k8s_validation` and
`annotation_validation`) and `revision_lifecycle`. A Revision is normally created by its
Configuration; one applied by hand is admitted too (Knative allows it), but no
Configuration follows it and no Route sends traffic to it unless one names it.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.serving import revision_defaults, revision_types, revision_validation

KIND = registry.register(registry.Kind(
    group=revision_types.GROUP,
    version=revision_types.VERSION,
    kind=revision_types.KIND,
    plural="revisions",
    singular="revision",
    short_names=("rev",),
    set_defaults=revision_defaults.set_defaults,
    validate=revision_validation.validate,
    validate_update=revision_validation.validate_update,
))
