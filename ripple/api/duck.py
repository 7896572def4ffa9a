"""Knative's duck types: KReference, Destination and DeliverySpec, with defaults and validation.

Called by every kind that points somewhere: Broker (`spec.config`, `spec.delivery`),
Trigger (`spec.subscriber`, `spec.delivery`), and later Subscription, Sequence, Parallel
and the sources' `sink`. Upstream: `knative.dev/pkg/apis/duck/v1/{destination,
knative_reference}.go` and `knative/eventing:pkg/apis/duck/v1/delivery_types.go`.

Where Ripple is stricter than Knative it says so here:
- a Destination's `ref` is validated also when a `uri` is given (Knative skips it then);
- `backoffDelay` may not be negative (Knative only parses it);
- `retryAfterMax` is accepted (Knative's flag `delivery-retryafter` is off by default), and
  `timeout` too (flag `delivery-timeout`, on by default);
- `group` in a KReference is refused, as Knative does while its experimental flag is off.
"""

from __future__ import annotations

import ssl
from typing import Any, TypedDict
from urllib.parse import urlsplit

from ripple.api import durations, fields
from ripple.errors import FieldError

KREFERENCE_FIELDS = ("apiVersion", "kind", "name", "namespace", "group", "address")
DESTINATION_FIELDS = ("ref", "uri", "CACerts", "audience")
DELIVERY_FIELDS = (
    "deadLetterSink", "retry", "timeout", "backoffPolicy", "backoffDelay", "retryAfterMax",
    "format",
)
BACKOFF_POLICIES = ("exponential", "linear")
FORMATS = ("json", "binary")
INT32_MAX = 2**31 - 1


# The wire shapes, for code that builds them or reads them from an admitted object.
class KReference(TypedDict, total=False):
    apiVersion: str
    kind: str
    name: str
    namespace: str
    address: str


class Destination(TypedDict, total=False):
    ref: KReference
    uri: str  # absolute alone; beside a ref, relative to the ref's address
    CACerts: str
    audience: str


class DeliverySpec(TypedDict, total=False):
    deadLetterSink: Destination
    retry: int
    timeout: str  # ISO-8601 durations, as `durations` parses them
    backoffPolicy: str
    backoffDelay: str
    retryAfterMax: str
    format: str


class Address(TypedDict, total=False):
    """Knative's `duckv1.Addressable`: what an addressable kind publishes in `status.address`."""

    name: str
    url: str
    CACerts: str
    audience: str


def address(url: str) -> Address:
    """The address of `url`; like Knative's SetAddress, its `name` is the URL's scheme."""
    return {"name": urlsplit(url).scheme, "url": url}


def default_kreference(ref: object, namespace: str) -> None:
    """A reference without a namespace points into its parent's namespace."""
    if isinstance(ref, dict) and not ref.get("namespace"):
        ref["namespace"] = namespace


def default_destination(destination: object, namespace: str) -> None:
    if isinstance(destination, dict):
        default_kreference(destination.get("ref"), namespace)


def default_delivery(delivery: object, namespace: str) -> None:
    if isinstance(delivery, dict):
        default_destination(delivery.get("deadLetterSink"), namespace)


def validate_kreference(value: object, path: str) -> fields.Errors:
    """apiVersion, kind and name are required; namespace is defaulted, not checked."""
    errs: fields.Errors = []
    ref = fields.mapping(value, path, errs)
    if ref is None:
        return errs
    fields.known_fields(ref, KREFERENCE_FIELDS, path, errs)
    for name in ("apiVersion", "kind", "name"):
        found = fields.required(ref, name, path, errs)
        if found is not None:
            fields.string(found, fields.join(path, name), errs)
    for name in ("namespace", "address"):
        if fields.present(ref, name):
            fields.string(ref[name], fields.join(path, name), errs)
    if fields.present(ref, "group"):
        errs.append(FieldError(
            fields.join(path, "group"), "must not be set: give the referent's apiVersion instead"
        ))
    return errs


def validate_destination(value: object, path: str) -> fields.Errors:
    """`ref` and/or `uri`: a uri alone is absolute; beside a ref it is relative to the ref."""
    errs: fields.Errors = []
    destination = fields.mapping(value, path, errs)
    if destination is None:
        return errs
    fields.known_fields(destination, DESTINATION_FIELDS, path, errs)
    has_ref = fields.present(destination, "ref")
    has_uri = fields.present(destination, "uri") and destination["uri"] != ""
    if not has_ref and not has_uri:
        errs.append(FieldError(path, "expected at least one of ref or uri, got neither"))
    if has_ref:
        errs.extend(validate_kreference(destination["ref"], fields.join(path, "ref")))
    if has_uri:
        errs.extend(_validate_uri(destination["uri"], fields.join(path, "uri"), has_ref))
    if fields.present(destination, "audience"):
        fields.string(destination["audience"], fields.join(path, "audience"), errs)
    if fields.present(destination, "CACerts"):
        errs.extend(_validate_ca_certs(destination["CACerts"], fields.join(path, "CACerts")))
    return errs


def _validate_uri(value: object, path: str, has_ref: bool) -> fields.Errors:
    errs: fields.Errors = []
    uri = fields.string(value, path, errs)
    if uri is None:
        return errs
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError as error:
        return [FieldError(path, f'invalid value "{uri}": {error}')]
    if has_ref and parts.scheme:
        errs.append(FieldError(path, (
            f'invalid value "{uri}": an absolute URI is not allowed beside a ref; give a '
            "path relative to the ref's address (e.g. /my-path), or drop the ref"
        )))
    elif not has_ref and (not parts.scheme or not host):
        errs.append(FieldError(path, (
            f'invalid value "{uri}": without a ref the uri must be absolute, with a scheme '
            "and a host (e.g. http://sink.example.com/path)"
        )))
    return errs


def _validate_ca_certs(value: object, path: str) -> fields.Errors:
    errs: fields.Errors = []
    pem = fields.string(value, path, errs, nonempty=True)
    if pem is None:
        return errs
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cadata=pem)
    except (ssl.SSLError, ValueError) as error:
        errs.append(FieldError(path, f"not a PEM-encoded CA certificate: {error}"))
    return errs


def validate_delivery(value: object, path: str) -> fields.Errors:
    """A DeliverySpec: how many retries, how far apart, how long each, and where failures go."""
    errs: fields.Errors = []
    delivery = fields.mapping(value, path, errs)
    if delivery is None:
        return errs
    fields.known_fields(delivery, DELIVERY_FIELDS, path, errs)
    if fields.present(delivery, "deadLetterSink"):
        errs.extend(validate_destination(
            delivery["deadLetterSink"], fields.join(path, "deadLetterSink")
        ))
    if fields.present(delivery, "retry"):
        retry = fields.integer(delivery["retry"], fields.join(path, "retry"), errs)
        if retry is not None and not 0 <= retry <= INT32_MAX:
            errs.append(FieldError(
                fields.join(path, "retry"),
                f"invalid value {retry}: must be a whole number of retries, 0 to {INT32_MAX}",
            ))
    _validate_choice(delivery, "backoffPolicy", BACKOFF_POLICIES, path, errs)
    _validate_choice(delivery, "format", FORMATS, path, errs)
    _validate_duration(delivery, "timeout", path, errs, minimum="more than zero")
    _validate_duration(delivery, "backoffDelay", path, errs, minimum="zero or more")
    _validate_duration(delivery, "retryAfterMax", path, errs, minimum="zero or more")
    return errs


def _validate_choice(
    delivery: dict[str, Any], name: str, allowed: tuple[str, ...], path: str, errs: fields.Errors
) -> None:
    if not fields.present(delivery, name):
        return
    value = delivery[name]
    if value not in allowed:
        shown = f'"{value}"' if isinstance(value, str) else fields.type_name(value)
        errs.append(FieldError(
            fields.join(path, name), f"invalid value {shown}: must be one of {', '.join(allowed)}"
        ))


def _validate_duration(
    delivery: dict[str, Any], name: str, path: str, errs: fields.Errors, *, minimum: str
) -> None:
    if not fields.present(delivery, name):
        return
    where = fields.join(path, name)
    text = fields.string(delivery[name], where, errs)
    if text is None:
        return
    try:
        seconds = durations.parse_duration(text)
    except ValueError as error:
        errs.append(FieldError(where, f"invalid value: {error}"))
        return
    too_small = seconds <= 0 if minimum == "more than zero" else seconds < 0
    if too_small:
        errs.append(FieldError(where, f'invalid value "{text}": the duration must be {minimum}'))
