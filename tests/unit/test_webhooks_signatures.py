"""Webhook delivery verification (sources/webhooks/signatures.py): GitHub's documented
HMAC-SHA256 test vector, wrong, missing and malformed signatures, and GitLab's token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ripple import errors
from sources.webhooks import signatures

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "webhooks" / "github"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} is absent")

# GitHub Docs, "Validating webhook deliveries" (also in reference/sources.md).
SECRET = b"It's a Secret to Everybody"
BODY = b"Hello, World!"
SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def unauthorized(call: object, *args: object) -> str:
    with pytest.raises(errors.Unauthorized) as caught:
        call(*args)  # type: ignore[operator]
    assert errors.http_status(caught.value) == 401
    return str(caught.value)


def test_github_documented_vector() -> None:
    assert signatures.sign_github(SECRET, BODY) == SIGNATURE
    signatures.verify_github(SECRET, BODY, SIGNATURE)


@needs_samples
def test_github_vector_from_testdata() -> None:
    vector = json.loads((SAMPLES / "github-docs__hmac-sha256-test-vector.json").read_text())
    secret, body = vector["secret"].encode(), vector["payload"].encode()
    signatures.verify_github(secret, body, vector["X-Hub-Signature-256"])
    assert vector["X-Hub-Signature-256"] == "sha256=" + vector["signature_hex"]


@needs_samples
def test_github_real_delivery_signed_round_trip() -> None:
    body = (SAMPLES / "octokit-webhooks__push_payload.json").read_bytes()
    signatures.verify_github(b"s3cr3t", body, signatures.sign_github(b"s3cr3t", body))


def test_github_hex_case_and_surrounding_space_are_accepted() -> None:
    signatures.verify_github(SECRET, BODY, "sha256=" + SIGNATURE[7:].upper())
    signatures.verify_github(SECRET, BODY, f" {SIGNATURE} ")


@pytest.mark.parametrize("secret, body, header", [
    (b"another secret", BODY, SIGNATURE),
    (SECRET, b"Hello, World?", SIGNATURE),
    (SECRET, BODY + b"\n", SIGNATURE),
    (SECRET, BODY, "sha256=" + "0" * 64),
], ids=["wrong-secret", "tampered-body", "extra-byte", "zeros"])
def test_github_mismatch(secret: bytes, body: bytes, header: str) -> None:
    message = unauthorized(signatures.verify_github, secret, body, header)
    assert "does not match" in message
    assert SIGNATURE[7:] not in message  # never tells what the signature should be


@pytest.mark.parametrize("header", [None, ""])
def test_github_missing(header: str | None) -> None:
    message = unauthorized(signatures.verify_github, SECRET, BODY, header)
    assert "missing X-Hub-Signature-256" in message


@pytest.mark.parametrize("header", [
    SIGNATURE[7:],  # no prefix
    "sha1=" + "a" * 40,  # the legacy X-Hub-Signature form
    "sha256=" + SIGNATURE[7:-2],  # too short
    "sha256=" + SIGNATURE[7:] + "00",  # too long
    "sha256=" + "g" * 64,  # not hex
    "SHA256=" + SIGNATURE[7:],
])
def test_github_malformed(header: str) -> None:
    assert "is not sha256=<64 hex digits>" in unauthorized(
        signatures.verify_github, SECRET, BODY, header)


def test_github_empty_secret_refuses_everything() -> None:
    empty_signature = signatures.sign_github(b"", BODY)
    message = unauthorized(signatures.verify_github, b"", BODY, empty_signature)
    assert "secretToken is empty" in message


def test_gitlab_token() -> None:
    signatures.verify_gitlab(b"glpat-secret", "glpat-secret")


def test_gitlab_non_ascii_token_compares_the_bytes_sent() -> None:
    secret = "tökén".encode()
    signatures.verify_gitlab(secret, secret.decode("latin-1"))  # as an ASGI header arrives


@pytest.mark.parametrize("header, words", [
    (None, "missing X-Gitlab-Token"),
    ("", "does not match"),
    ("glpat-secreT", "does not match"),
    ("glpat-secret ", "does not match"),
    ("glpat-secre", "does not match"),
    ("€", "does not match"),
])
def test_gitlab_wrong_or_missing(header: str | None, words: str) -> None:
    message = unauthorized(signatures.verify_gitlab, b"glpat-secret", header)
    assert words in message
    assert "glpat-secret" not in message


def test_gitlab_empty_secret_refuses_everything() -> None:
    assert "secretToken is empty" in unauthorized(signatures.verify_gitlab, b"", "")
