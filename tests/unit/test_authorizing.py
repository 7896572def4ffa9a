"""`channels.authorizing`: which tokens an annotated Broker or Channel takes, and which one a
sender sends to it (issue #15)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from channels import authorizing
from channels.dispatching import Secured


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Cache:
    """The informer's read side over a list of objects."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects = list(objects)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        for obj in self.objects:
            meta = obj["metadata"]
            if obj["kind"] == kind and meta.get("namespace", "default") == namespace and meta["name"] == name:
                return obj
        return None

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]


def obj(kind: str, name: str, secret: str | None = None, **top: Any) -> dict[str, Any]:
    annotations = {authorizing.ANNOTATION: secret} if secret is not None else {}
    return {"kind": kind, "metadata": {"name": name, "namespace": "default",
                                       "annotations": annotations}, **top}


@pytest.mark.parametrize("secret, expected", [
    (None, {}),
    (obj("Secret", "s", data={"token": b64("abc")}), {"token": b"abc"}),
    (obj("Secret", "s", data={"token": b64("abc\n")}), {"token": b"abc"}),  # from a file
    (obj("Secret", "s", data={"a": b64("1"), "b": b64("2")}), {"a": b"1", "b": b"2"}),
    (obj("Secret", "s", data={"token": "!!not base64"}), {}),
    (obj("Secret", "s", data={"token": ""}), {}),
    (obj("Secret", "s", data={"token": b64("old")}, stringData={"token": "new"}), {"token": b"new"}),
])
def test_secret_values(secret: dict[str, Any] | None, expected: dict[str, bytes]) -> None:
    assert authorizing.secret_values(secret) == expected


def test_required_tokens_for_annotated_objects_only() -> None:
    cache = Cache(obj("Broker", "open"), obj("Broker", "locked", "s"), obj("Broker", "lost", "gone"),
                  obj("Broker", "blank", " "),
                  obj("Secret", "s", data={"token": b64("new"), "previous": b64("old")}))
    tokens = authorizing.IngressTokens(cache, ("Broker",))
    tokens.sync()
    assert tokens.required == {("default", "locked"): frozenset({b"new", b"old"}),
                               ("default", "lost"): frozenset()}  # a missing Secret refuses all
    cache.objects[-1] = obj("Secret", "s", data={"token": b64("newer")})
    tokens.sync({"Trigger"})  # not ours: nothing recomputed
    assert tokens.required[("default", "locked")] == {b"new", b"old"}
    tokens.sync({"Secret"})
    assert tokens.required[("default", "locked")] == {b"newer"}


BROKER_REF = {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "locked"}}


@pytest.mark.parametrize("destination, expected", [
    (BROKER_REF, "t"),
    ({"ref": {**BROKER_REF["ref"], "name": "open"}}, None),
    ({"ref": {**BROKER_REF["ref"], "name": "missing"}}, None),
    ({"ref": {"apiVersion": "v1", "kind": "Service", "name": "locked"}}, None),
    ({"uri": "http://127.0.0.1:8080/default/locked"}, None),  # by ref only
    (None, None),
])
def test_sink_token(destination: Any, expected: str | None) -> None:
    cache = Cache(obj("Broker", "open"), obj("Broker", "locked", "s"),
                  obj("Secret", "s", data={"a-first": b64("a"), "token": b64("t")}))
    assert authorizing.sink_token(cache, "default", destination) == expected


def test_sink_token_takes_the_first_key_without_a_token_key() -> None:
    cache = Cache(obj("Broker", "locked", "s"), obj("Secret", "s", data={"b": b64("2"), "a": b64("1")}))
    assert authorizing.sink_token(cache, "default", BROKER_REF) == "1"


def test_secure_names_each_phase_that_needs_a_token_or_a_ca() -> None:
    cache = Cache(obj("Broker", "locked", "s"), obj("Secret", "s", data={"token": b64("t")}))
    pem = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
    assert authorizing.secure(cache, "default", {
        "subscriber": BROKER_REF, "reply": {"uri": "https://x/", "CACerts": pem},
        "dead-letter": {"uri": "http://y/"}}) == (
        ("subscriber", Secured(token="t")), ("reply", Secured(ca_certs=pem)))
    assert authorizing.secure(cache, "default", {"subscriber": None}) == ()
