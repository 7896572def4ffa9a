"""Channel validation (Knative's `channel_validation.go`), run by `loading.admit`.

`validate` checks a whole Channel: the metadata, `spec.channelTemplate` (required, and
defaulted, so only a malformed one fails), `spec.subscribers` and `spec.delivery` (in
`channelable`). `validate_update` refuses a change of `spec.channelTemplate`.
`validate_channel_template` is shared with Sequence and Parallel.

Where Ripple differs from Knative:
- the template's `apiVersion` and `kind` must look like an apiVersion and a kind, so a
  placeholder such as `<channel-template-kind>` is refused; Knative only needs them set;
- Knative freezes the whole spec but `subscribers`; Ripple freezes only the template,
  since a changed `delivery` simply applies to the next delivery;
- `spec.subscribers` is admitted (see `channelable`).
"""

from __future__ import annotations

import re
from typing import Any

from ripple.api import fields, meta
from ripple.api.messaging import channel_types, channelable
from ripple.errors import FieldError

_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]*")
KIND_RULE = "a kind is a CamelCase name of letters and digits, e.g. InMemoryChannel"
API_VERSION_RULE = (
    "an apiVersion is a version (e.g. v1) or a group and a version "
    "(e.g. messaging.knative.dev/v1)"
)


def validate(channel: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(channel)
    spec = fields.mapping(channel.get("spec"), "spec", errs)
    if spec is None:
        return errs
    fields.known_fields(spec, channel_types.SPEC_FIELDS, "spec", errs)
    errs.extend(validate_channel_template(spec.get("channelTemplate"), "spec.channelTemplate"))
    errs.extend(channelable.validate(spec, "spec"))
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    before = channel_types.channel_template(old)
    after = channel_types.channel_template(new)
    if before != after:
        return [FieldError("spec.channelTemplate", (
            f"field is immutable: was {before}, now {after}; delete and recreate the Channel "
            "to change what backs it"
        ))]
    return []


def validate_channel_template(value: object, path: str) -> fields.Errors:
    """`{apiVersion, kind, spec}` of the backing channel; apiVersion and kind are required."""
    errs: fields.Errors = []
    if value is None:
        return [FieldError(path, f"{fields.MISSING}: the apiVersion and kind of a channel, "
                                 "e.g. messaging.knative.dev/v1 InMemoryChannel")]
    template = fields.mapping(value, path, errs)
    if template is None:
        return errs
    fields.known_fields(template, channel_types.CHANNEL_TEMPLATE_FIELDS, path, errs)
    api_version = fields.required(template, "apiVersion", path, errs)
    where = fields.join(path, "apiVersion")
    if (
        api_version is not None
        and fields.string(api_version, where, errs) is not None
        and not is_api_version(api_version)
    ):
        errs.append(FieldError(where, f'invalid value "{api_version}": {API_VERSION_RULE}'))
    kind = fields.required(template, "kind", path, errs)
    where = fields.join(path, "kind")
    if (
        kind is not None
        and fields.string(kind, where, errs) is not None
        and not _KIND.fullmatch(kind)
    ):
        errs.append(FieldError(where, f'invalid value "{kind}": {KIND_RULE}'))
    if fields.present(template, "spec"):
        fields.mapping(template["spec"], fields.join(path, "spec"), errs)
    return errs


def is_api_version(text: str) -> bool:
    group, slash, version = text.rpartition("/")
    if slash and not meta.is_dns1123_subdomain(group):
        return False
    return meta.is_dns1123_label(version)
