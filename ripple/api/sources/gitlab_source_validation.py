"""GitLabSource validation, run by `loading.admit`; nothing is immutable, as upstream.

Upstream's `gitlabsource_validation.go` checks only the sink; the rest is in the CRD
schema (`config/300-gitlabsource.yaml`), which Ripple checks at admission, naming the
field:
- `projectUrl`: required, an absolute http(s) URL (the CRD's `format: uri`);
- `eventTypes`: required, at least one, each a GitLab hook option from the CRD's enum;
- `secretToken`: required; `accessToken`: required only when Ripple is asked to register
  the hook (`ripple.dev/register-webhook: "true"`); each `secretKeyRef` has a `name` and
  a `key` (the shapes are GitHubSource's: `github_source_validation`);
- `sslverify`: a boolean; `sink` and `ceOverrides`: `source_spec.validate`.
"""

from __future__ import annotations

from typing import Any

from ripple.api import dead_letter_bounds, fields, meta
from ripple.api.sources import github_source_validation as shared
from ripple.api.sources import gitlab_source_types, source_spec


def validate(source: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(source)
    errs.extend(dead_letter_bounds.validate(source))  # the store's `ripple.dev/dead-letter-*`
    register = shared.validate_register_annotation(source, errs)
    spec = fields.mapping(source.get("spec"), "spec", errs)
    if spec is None:
        return errs
    fields.known_fields(spec, gitlab_source_types.SPEC_FIELDS, "spec", errs)
    url = fields.required(spec, "projectUrl", "spec", errs)
    if url is not None:
        shared.validate_http_url(url, "spec.projectUrl", errs)
    shared.validate_names(spec, "eventTypes", gitlab_source_types.EVENT_TYPES, "spec", errs,
                          what="GitLab webhook event option", example="push_events")
    shared.validate_tokens(spec, "spec", errs, register=register)
    if fields.present(spec, "sslverify"):
        fields.boolean(spec["sslverify"], "spec.sslverify", errs)
    if fields.present(spec, "serviceAccountName"):
        fields.string(spec["serviceAccountName"], "spec.serviceAccountName", errs)
    source_spec.validate(spec, "spec", errs)
    return errs
