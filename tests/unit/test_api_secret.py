"""Core v1 Secret: stringData folding, validation and secret_value (ripple.api.core.secret)."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from ripple import errors
from ripple.api import loading
from ripple.api.core import secret


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def make(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gh"}, **fields}


@pytest.mark.parametrize(("given", "expected"), [
    (make(), {"type": "Opaque"}),
    (make(type="kubernetes.io/basic-auth"), {"type": "kubernetes.io/basic-auth"}),
    (make(stringData={"token": "abc"}), {"type": "Opaque", "data": {"token": b64("abc")}}),
    (make(data={"a": b64("1"), "token": b64("old")}, stringData={"token": "new"}),
     {"type": "Opaque", "data": {"a": b64("1"), "token": b64("new")}}),
    (make(stringData={"ok": "x", "bad": 5}),
     {"type": "Opaque", "data": {"ok": b64("x")}, "stringData": {"bad": 5}}),
    (make(stringData={"t": "x"}, data="junk"),
     {"type": "Opaque", "data": "junk", "stringData": {"t": "x"}}),
])
def test_defaults_fold_string_data_into_data(
    given: dict[str, Any], expected: dict[str, Any]
) -> None:
    got = copy.deepcopy(given)
    secret.set_defaults(got)
    assert {k: v for k, v in got.items() if k in ("type", "data", "stringData")} == expected
    assert got["metadata"]["namespace"] == "default"


def refusal(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj, old)
    return [(e.path, e.message) for e in caught.value.errors]


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    (make(data={"token": "<base64 encoded token>"}), "data[token]", "not standard base64"),
    (make(data={"token": "YWJj"[:3]}), "data[token]", "not standard base64"),
    (make(data={"to ken": b64("x")}), "data[to ken]", 'invalid key "to ken"'),
    (make(data={"..": b64("x")}), "data[..]", "invalid key"),
    (make(data={"token": 5}), "data[token]", "must be a string"),
    (make(data=[]), "data", "must be a mapping"),
    (make(stringData={"token": 5}), "stringData[token]", "must be a string"),
    (make(type=5), "type", "must be a string"),
    (make(immutable="yes"), "immutable", "must be a boolean"),
    (make(data={"big": b64("x" * (1024 * 1024 + 1))}), "data", "too long"),
    (make(spec={}), "spec", 'unknown field "spec"'),
])
def test_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


@pytest.mark.parametrize("data", [
    {"token": b64("abc")},
    {"token": "YWJj\nZGVm"},  # line breaks are skipped, as Go's decoder does
    {"token": ""},
    {"key.name_-1": b64("x")},
])
def test_valid(data: dict[str, str]) -> None:
    assert loading.admit(make(data=data))["data"] == data


@pytest.mark.parametrize(("old", "change", "path"), [
    (make(data={"a": b64("1")}), {"type": "kubernetes.io/tls"}, "type"),
    (make(data={"a": b64("1")}, immutable=True), {"data": {"a": b64("2")}}, "data"),
    (make(data={"a": b64("1")}, immutable=True), {"immutable": False}, "immutable"),
])
def test_update(old: dict[str, Any], change: dict[str, Any], path: str) -> None:
    stored = loading.admit(old)
    assert [p for p, _ in refusal({**stored, **change}, stored)] == [path]


def test_a_mutable_secret_may_change() -> None:
    stored = loading.admit(make(data={"a": b64("1")}))
    assert loading.admit({**stored, "data": {"a": b64("2")}}, stored)["data"] == {"a": b64("2")}


@pytest.mark.parametrize(("obj", "key", "expected"), [
    (make(data={"token": b64("abc")}), "token", b"abc"),
    (make(data={"bin": base64.b64encode(b"\x00\xff").decode()}), "bin", b"\x00\xff"),
    (make(stringData={"token": "plain"}, data={"token": b64("old")}), "token", b"plain"),
    (make(stringData={"token": "plain"}), "token", b"plain"),
])
def test_secret_value(obj: dict[str, Any], key: str, expected: bytes) -> None:
    assert secret.secret_value(obj, key) == expected


@pytest.mark.parametrize("obj", [make(), make(data={"token": "!!"}), make(data={"other": "eA=="})])
def test_secret_value_missing(obj: dict[str, Any]) -> None:
    with pytest.raises(errors.NotFound, match='secret "default/gh" has no key "token"'):
        secret.secret_value(obj, "token")
