"""GitHubSource validation, run by `loading.admit`; nothing is immutable, as upstream.

Upstream's `githubsource_validation.go` checks only the sink; the rest of its rules are in
the CRD schema (`config/core/300-githubsource.yaml`) and in the reconciler's
`parseOwnerRepoFrom`. Ripple checks all of them at admission, naming the field:
- `ownerAndRepository`: required; `owner/repository`, or `owner` for an organization.
  Like upstream no character set is imposed, so a doc's `<your org>/<your repo>` passes;
  Ripple refuses `owner/` (upstream reads it as an organization), `/repo` and `a/b/c`;
- `eventTypes`: required, at least one, each a name from the CRD's enum;
- `secretToken`: required; `accessToken`: required only when Ripple is asked to register
  the webhook (`ripple.dev/register-webhook: "true"`, which must be "true" or "false");
- each `secretKeyRef` has a `name` (a Secret's name) and a `key` (a Secret key);
- `githubAPIURL`: an absolute http(s) URL when set; `secure`: a boolean;
- `sink` and `ceOverrides`: `source_spec.validate`.

The shapes GitLabSource and KafkaSource share with this kind are checked here too:
`validate_secret_value`, `validate_register_annotation`, `validate_names` and
`validate_http_url`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ripple.api import dead_letter_bounds, fields, meta
from ripple.api.core import secret
from ripple.api.sources import github_source_types, source_spec
from ripple.errors import FieldError

SECRET_VALUE_FIELDS = ("secretKeyRef",)
SECRET_KEY_SELECTOR_FIELDS = ("name", "key", "optional")
REGISTER_PATH = fields.key("metadata.annotations", github_source_types.REGISTER_ANNOTATION)
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
OWNER_AND_REPOSITORY_RULE = 'expected "owner/repository", or "owner" for an organization'


def validate(source: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(source)
    errs.extend(dead_letter_bounds.validate(source))  # the store's `ripple.dev/dead-letter-*`
    register = validate_register_annotation(source, errs)
    spec = fields.mapping(source.get("spec"), "spec", errs)
    if spec is None:
        return errs
    fields.known_fields(spec, github_source_types.SPEC_FIELDS, "spec", errs)
    _validate_owner_and_repository(spec, errs)
    validate_names(spec, "eventTypes", github_source_types.EVENT_TYPES, "spec", errs,
                   what="GitHub webhook event name", example="push")
    validate_tokens(spec, "spec", errs, register=register)
    if fields.present(spec, "githubAPIURL"):
        validate_http_url(spec["githubAPIURL"], "spec.githubAPIURL", errs)
    if fields.present(spec, "secure"):
        fields.boolean(spec["secure"], "spec.secure", errs)
    if fields.present(spec, "serviceAccountName"):
        fields.string(spec["serviceAccountName"], "spec.serviceAccountName", errs)
    source_spec.validate(spec, "spec", errs)
    return errs


def _validate_owner_and_repository(spec: dict[str, Any], errs: fields.Errors) -> None:
    path = "spec.ownerAndRepository"
    found = fields.required(spec, "ownerAndRepository", "spec", errs)
    if found is None or fields.string(found, path, errs) is None:
        return
    parts = found.split("/")
    if len(parts) > 2 or not all(parts):
        errs.append(FieldError(path, f'invalid value "{found}": {OWNER_AND_REPOSITORY_RULE}'))


def validate_register_annotation(source: dict[str, Any], errs: fields.Errors) -> bool:
    """`ripple.dev/register-webhook` is "true" or "false"; True when it is "true"."""
    value = meta.annotations_of(source).get(github_source_types.REGISTER_ANNOTATION)
    if value is None or not isinstance(value, str):
        return False  # a non-string annotation is reported by meta.validate
    if value not in github_source_types.REGISTER_VALUES:
        errs.append(FieldError(REGISTER_PATH, (
            f'invalid value "{value}": must be "true" (Ripple registers the webhook with '
            'spec.accessToken) or "false" (you paste status.webhookUrl into the provider)')))
    return value == "true"


def validate_tokens(
    spec: dict[str, Any], path: str, errs: fields.Errors, *, register: bool
) -> None:
    """`secretToken` (required) and `accessToken` (required when registering)."""
    token = fields.required(spec, "secretToken", path, errs)
    if token is not None:
        validate_secret_value(token, fields.join(path, "secretToken"), errs)
    if fields.present(spec, "accessToken"):
        validate_secret_value(spec["accessToken"], fields.join(path, "accessToken"), errs)
    elif register:
        errs.append(FieldError(fields.join(path, "accessToken"), (
            f'{fields.MISSING}: {github_source_types.REGISTER_ANNOTATION} is "true", and '
            "Ripple needs an access token to register the webhook")))


def validate_names(
    spec: dict[str, Any], name: str, allowed: tuple[str, ...], path: str,
    errs: fields.Errors, *, what: str, example: str,
) -> None:
    """A required, non-empty list of names, each one of `allowed`."""
    where = fields.join(path, name)
    found = fields.required(spec, name, path, errs)
    if found is None:
        return
    if not isinstance(found, list):
        errs.append(FieldError(where, fields.wrong_type(f"a list of {what}s", found)))
        return
    if not found:
        errs.append(FieldError(where, f"must not be empty: give at least one {what} "
                                      f"(e.g. {example})"))
    for i, item in enumerate(found):
        item_path = fields.index(where, i)
        if fields.string(item, item_path, errs) is not None and item not in allowed:
            errs.append(FieldError(item_path, (
                f'invalid value "{item}": expected a {what}, one of {", ".join(allowed)}')))


def validate_secret_value(value: object, path: str, errs: fields.Errors) -> None:
    """A SecretValueFromSource: `{secretKeyRef: {name, key}}`, read with `secret_value`."""
    found = fields.mapping(value, path, errs)
    if found is None:
        return
    fields.known_fields(found, SECRET_VALUE_FIELDS, path, errs)
    ref = fields.required(found, "secretKeyRef", path, errs)
    if ref is None:
        return
    ref_path = fields.join(path, "secretKeyRef")
    selector = fields.mapping(ref, ref_path, errs)
    if selector is None:
        return
    fields.known_fields(selector, SECRET_KEY_SELECTOR_FIELDS, ref_path, errs)
    for name, ok, rule in (("name", meta.is_dns1123_subdomain, meta.SUBDOMAIN_RULE),
                           ("key", _is_secret_key, secret.KEY_RULE)):
        found = fields.required(selector, name, ref_path, errs)
        where = fields.join(ref_path, name)
        if found is None or fields.string(found, where, errs) is None:
            continue
        if not ok(found):
            errs.append(FieldError(where, f'invalid value "{found}": {rule}'))
    if fields.present(selector, "optional"):
        fields.boolean(selector["optional"], fields.join(ref_path, "optional"), errs)


def _is_secret_key(key: str) -> bool:
    # secret.validate's rule for the keys of a Secret's data.
    return bool(_SECRET_KEY.fullmatch(key)) and len(key) <= 253 and key not in (".", "..")


def validate_http_url(value: object, path: str, errs: fields.Errors) -> str | None:
    """An absolute http or https URL with a host; the URL, or None if it is not one."""
    text = fields.string(value, path, errs, nonempty=True)
    if text is None:
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError as error:
        errs.append(FieldError(path, f'invalid value "{text}": {error}'))
        return None
    if parts.scheme not in ("http", "https") or not host:
        errs.append(FieldError(path, (
            f'invalid value "{text}": must be an absolute http or https URL with a host '
            "(e.g. https://example.com/path)")))
        return None
    return text
