"""The one error tree of Ripple, grouped by what the caller should do.

    RippleError
    ├── InvalidInput            the caller sent something wrong: a 4xx, nothing was stored
    │   ├── Invalid             a resource or event broke a rule (field path + rule)
    │   ├── Unauthorized        401: a missing or wrong credential (a webhook signature)
    │   ├── NotFound            404: no such resource, broker or path
    │   ├── Conflict            409: it exists already, or the resourceVersion is stale
    │   ├── MethodNotAllowed    405
    │   └── PayloadTooLarge     413
    ├── TemporaryError          try again after `delay` seconds: a 503 with Retry-After
    │   └── StoreUnavailable    the Redis/Valkey store is down or over its bound
    └── PermanentError          cannot succeed as declared: a condition goes False with the message

Third-party errors (redis, aiohttp) are translated into this tree at the boundary that
calls them; for redis-py, `ripple.redisclient.UNAVAILABLE` is the one list of errors that
become `StoreUnavailable`. `http_status` is the one place where an error becomes an HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One broken rule, Kubernetes style: `spec.filter.attributes[Type]: invalid key: ...`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RippleError(Exception):
    """Root of every error Ripple raises on purpose."""

    status = 500


class InvalidInput(RippleError):
    """The caller's input is wrong. Nothing was stored or sent."""

    status = 400


class Invalid(InvalidInput):
    """A resource or event broke one or more rules; each `FieldError` names the field."""

    status = 400

    def __init__(self, errors: list[FieldError] | FieldError | str, *, status: int | None = None):
        if isinstance(errors, str):
            errors = [FieldError("", errors)]
        elif isinstance(errors, FieldError):
            errors = [errors]
        self.errors: list[FieldError] = list(errors)
        if status is not None:
            self.status = status
        super().__init__("; ".join(str(e) for e in self.errors))


class Unauthorized(InvalidInput):
    """The request is not proven to come from whom it claims: a webhook delivery without
    a valid signature or token. The message says what is wrong, never the expected value."""

    status = 401


class NotFound(InvalidInput):
    status = 404


class Conflict(InvalidInput):
    status = 409


class MethodNotAllowed(InvalidInput):
    status = 405


class PayloadTooLarge(InvalidInput):
    status = 413


class TemporaryError(RippleError):
    """Retry after `delay` seconds; answered as 503 with Retry-After."""

    status = 503

    def __init__(self, message: str, *, delay: float = 1.0):
        super().__init__(message)
        self.delay = delay


class StoreUnavailable(TemporaryError):
    """The Redis/Valkey store cannot take the write now (down, read-only, or over its bound)."""


class PermanentError(RippleError):
    """Cannot succeed as declared; a reconciler reports it as a False condition."""

    status = 500


def http_status(error: BaseException) -> int:
    """The HTTP status for an error: the one place this mapping lives."""
    if isinstance(error, RippleError):
        return error.status
    return 500


def retry_after(error: BaseException) -> str | None:
    """The Retry-After header value (whole seconds, at least 1) for a temporary error."""
    if isinstance(error, TemporaryError):
        return str(max(1, int(round(error.delay))))
    return None
