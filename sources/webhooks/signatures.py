"""Proof that a webhook delivery comes from the provider: called by the receiver before it
parses anything.

- GitHub signs the raw body with HMAC-SHA256 keyed by the hook's secret and sends
  `X-Hub-Signature-256: sha256=<hex>`. Knative's adapter still checks the legacy SHA-1
  `X-Hub-Signature`; Ripple checks only SHA-256, which GitHub sends on every delivery.
- GitLab sends the hook's secret token itself in `X-Gitlab-Token` (no HMAC).

Both compare in constant time (`hmac.compare_digest`). Both raise `errors.Unauthorized`
(401) with a message that says what is wrong and never echoes the expected value.
Unlike upstream, which skips the check when the secret is empty, Ripple refuses every
delivery then: an empty secret proves nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from ripple import errors

GITHUB_HEADER = "X-Hub-Signature-256"
GITLAB_HEADER = "X-Gitlab-Token"

_GITHUB_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")


def sign_github(secret: bytes, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`: `sha256=<hex>`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_github(secret: bytes, body: bytes, header: str | None) -> None:
    """Raise `errors.Unauthorized` unless `header` is the HMAC-SHA256 of `body` under `secret`."""
    _require_secret(secret)
    if not header:
        raise errors.Unauthorized(
            f"missing {GITHUB_HEADER} header: set the webhook's secret in GitHub to the "
            "source's secretToken")
    match = _GITHUB_SIGNATURE.fullmatch(header.strip())
    if match is None:
        raise errors.Unauthorized(f"{GITHUB_HEADER} is not sha256=<64 hex digits>")
    expected = hmac.new(secret, body, hashlib.sha256).digest()
    if not hmac.compare_digest(bytes.fromhex(match[1]), expected):
        raise errors.Unauthorized(
            f"{GITHUB_HEADER} does not match the body signed with the source's secretToken")


def verify_gitlab(secret: bytes, header: str | None) -> None:
    """Raise `errors.Unauthorized` unless `header` equals `secret`."""
    _require_secret(secret)
    if header is None:
        raise errors.Unauthorized(
            f"missing {GITLAB_HEADER} header: set the webhook's secret token in GitLab to the "
            "source's secretToken")
    # Header values reach us decoded as latin-1, so this gives back the bytes sent.
    if not hmac.compare_digest(header.encode("latin-1", "replace"), secret):
        raise errors.Unauthorized(f"{GITLAB_HEADER} does not match the source's secretToken")


def _require_secret(secret: bytes) -> None:
    if not secret:
        raise errors.Unauthorized(
            "the source's secretToken is empty, so no delivery can be verified; "
            "set a non-empty secret")
