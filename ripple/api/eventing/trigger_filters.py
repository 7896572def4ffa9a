"""Validation of a Trigger's `spec.filter` and `spec.filters`, called by `trigger_validation`.

Upstream: `ValidateAttributeFilters` and `ValidateSubscriptionAPIFiltersList` in
`knative/eventing:pkg/apis/eventing/v1/trigger_validation.go`, and the CloudEvents
Subscriptions API, which the `filters` dialects come from. The evaluation of filters is
the broker's business (`broker/`); here we only refuse what can never be evaluated.

Ripple follows the Subscriptions API where Knative's webhook is looser:
- every filter expression sets exactly one dialect; Knative refuses two or more with
  "multiple dialects found, filters can have only one dialect set", and lets none pass
  (it then matches everything), which hides typos such as `exacts:`;
- `exact`, `prefix` and `suffix` need at least one attribute, with a non-empty value
  (Knative silently skips a filter with an empty value), and `all` and `any` need at least
  one expression (an empty one counts as no dialect upstream).
"""

from __future__ import annotations

import re

from ripple import cesql
from ripple.api import fields
from ripple.api.eventing import trigger_types
from ripple.errors import FieldError

ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9]*")
ATTRIBUTE_RULE = (
    "Attribute name must start with a letter and can only contain lowercase alphanumeric"
)
MULTIPLE_DIALECTS = "multiple dialects found, filters can have only one dialect set"


def validate_filter(value: object, path: str) -> fields.Errors:
    """The legacy `filter: {attributes: {name: value}}`; a value of "" is allowed."""
    errs: fields.Errors = []
    found = fields.mapping(value, path, errs)
    if found is None:
        return errs
    fields.known_fields(found, trigger_types.FILTER_FIELDS, path, errs)
    if fields.present(found, "attributes"):
        errs.extend(_validate_attributes(found["attributes"], fields.join(path, "attributes"),
                                         values_required=False))
    return errs


def validate_filters(value: object, path: str) -> fields.Errors:
    """The `filters` list, ANDed; an empty list is allowed and matches everything."""
    errs: fields.Errors = []
    if not isinstance(value, list):
        return [FieldError(path, (
            f"{fields.wrong_type('a list of filter expressions', value)}; write each "
            "expression as a list item, e.g. `- exact: {type: com.example.created}`"
        ))]
    for i, item in enumerate(value):
        errs.extend(validate_expression(item, fields.index(path, i)))
    return errs


def validate_expression(value: object, path: str) -> fields.Errors:
    """One Subscriptions API expression: exactly one dialect, each well formed."""
    errs: fields.Errors = []
    expression = fields.mapping(value, path, errs)
    if expression is None:
        return errs
    fields.known_fields(expression, trigger_types.DIALECTS, path, errs)
    dialects = [d for d in trigger_types.DIALECTS if d in expression]
    if len(dialects) > 1:
        errs.append(FieldError(path, f"{MULTIPLE_DIALECTS}: {', '.join(dialects)}"))
    elif not dialects:
        errs.append(FieldError(path, (
            "a filter expression needs exactly one dialect, one of: "
            + ", ".join(trigger_types.DIALECTS)
        )))
    for dialect in dialects:
        where = fields.join(path, dialect)
        found = expression[dialect]
        if dialect in ("exact", "prefix", "suffix"):
            errs.extend(_validate_attributes(found, where, values_required=True))
        elif dialect in ("all", "any"):
            errs.extend(_validate_list(found, where))
        elif dialect == "not":
            errs.extend(validate_expression(found, where))
        else:
            errs.extend(_validate_cesql(found, where))
    return errs


def _validate_attributes(value: object, path: str, *, values_required: bool) -> fields.Errors:
    errs: fields.Errors = []
    found = fields.mapping(value, path, errs)
    if found is None:
        return errs
    if values_required and not found:
        errs.append(FieldError(
            path, "must name at least one attribute, e.g. {type: com.example.created}"
        ))
    for name, wanted in found.items():
        where = fields.key(path, name)
        if not ATTRIBUTE_NAME.fullmatch(name):
            errs.append(FieldError(where, f'invalid key name "{name}": {ATTRIBUTE_RULE}'))
        fields.string(wanted, where, errs, nonempty=values_required)
    return errs


def _validate_list(value: object, path: str) -> fields.Errors:
    if not isinstance(value, list):
        return [FieldError(path, fields.wrong_type("a list of filter expressions", value))]
    if not value:
        return [FieldError(path, "must hold at least one filter expression")]
    errs: fields.Errors = []
    for i, item in enumerate(value):
        errs.extend(validate_expression(item, fields.index(path, i)))
    return errs


def _validate_cesql(value: object, path: str) -> fields.Errors:
    errs: fields.Errors = []
    text = fields.string(value, path, errs, nonempty=True)
    if text is None:
        return errs
    try:
        cesql.parse(text)
    except cesql.ParseError as error:
        errs.append(FieldError(path, f"invalid value {text!r}: {error}"))
    return errs
