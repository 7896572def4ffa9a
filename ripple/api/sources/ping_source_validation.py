"""PingSource validation (Knative's `ping_validation.go`), run by `loading.admit`.

Nothing is immutable, as upstream. `validate` checks, naming the field:
- `spec.schedule`: parses with `ripple.cron` (robfig/cron's dialect: 5 fields, or 6 with
  seconds first, descriptors except `@every`, a `CRON_TZ=` prefix); absent or empty means
  the default, `* * * * *`;
- `spec.timezone`: an IANA zone name; it must agree with a `CRON_TZ=` prefix if both are
  given (Knative refuses both: it prepends a second prefix, which robfig cannot parse);
- `spec.data` and `spec.dataBase64`: at most one; `dataBase64` is padded standard base64;
  when `contentType` is exactly `application/json`, the data (decoded) must be a JSON
  object, as upstream unmarshals it into a map (so `null` passes, and an array does not);
- `spec.contentType`: a string;
- `sink` (required) and `ceOverrides`: `source_spec.validate`; unknown spec fields.

Knative's `data-max-size` (config-ping-defaults, unlimited by default) is not enforced.
"""

from __future__ import annotations

import binascii
import json
from typing import Any

from ripple import cron
from ripple.api import dead_letter_bounds, fields, meta
from ripple.api.sources import ping_source_types, source_spec
from ripple.errors import FieldError

STRING_FIELDS = ("schedule", "timezone", "contentType", "data", "dataBase64")


def validate(source: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(source)
    errs.extend(dead_letter_bounds.validate(source))  # the store's `ripple.dev/dead-letter-*`
    spec = fields.mapping(source.get("spec"), "spec", errs)
    if spec is None:
        return errs
    fields.known_fields(spec, ping_source_types.SPEC_FIELDS, "spec", errs)
    strings = {name: _string(spec, name, errs) for name in STRING_FIELDS}
    _validate_schedule(strings["schedule"], strings["timezone"], errs)
    _validate_data(strings, errs)
    source_spec.validate(spec, "spec", errs)
    return errs


def _string(spec: dict[str, Any], name: str, errs: fields.Errors) -> str:
    """The field's value, "" when it is absent or not a string (which is reported)."""
    if not fields.present(spec, name):
        return ""
    return fields.string(spec[name], fields.join("spec", name), errs) or ""


def _validate_schedule(schedule: str, timezone: str, errs: fields.Errors) -> None:
    zone: str | None = None
    if timezone:
        try:
            zone = cron.load_zone(timezone).key
        except cron.CronError as error:
            errs.append(FieldError("spec.timezone", str(error)))
    try:
        cron.parse(schedule or ping_source_types.DEFAULT_SCHEDULE, zone)
    except cron.CronError as error:
        if error.field == "timezone":
            errs.append(FieldError("spec.timezone", str(error)))
        else:
            errs.append(FieldError("spec.schedule", f'invalid value "{schedule}": {error}'))


def _validate_data(strings: dict[str, str], errs: fields.Errors) -> None:
    data, encoded = strings["data"], strings["dataBase64"]
    if data and encoded:
        errs.append(FieldError("spec", "expected exactly one of data or dataBase64, got both"))
        return
    wants_json = strings["contentType"] == ping_source_types.JSON_CONTENT_TYPE
    if encoded:
        try:
            decoded = ping_source_types.decode_base64(encoded)
        except binascii.Error as error:
            errs.append(FieldError("spec.dataBase64", (
                f"invalid value: not base64 (the standard alphabet, padded): {error}")))
            return
        if wants_json:
            _validate_json(decoded, "spec.dataBase64", "decoded dataBase64", errs)
    elif data and wants_json:
        _validate_json(data.encode(), "spec.data", "data", errs)


def _validate_json(data: bytes, path: str, what: str, errs: fields.Errors) -> None:
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        errs.append(FieldError(path, (
            f"invalid value: contentType is application/json but {what} is not JSON: {error}")))
        return
    if value is not None and not isinstance(value, dict):
        errs.append(FieldError(path, (
            f"invalid value: contentType is application/json, so {what} must be a JSON "
            f"object, got {fields.type_name(value)}")))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
