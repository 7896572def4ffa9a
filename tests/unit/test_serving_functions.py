"""serving.functions: loading FILE:FUNCTION, the markers, how a handler is called."""

from __future__ import annotations

from pathlib import Path

import pytest

from ripple import errors
from serving import functions

HANDLERS = Path(__file__).resolve().parent.parent / "support" / "functions" / "handlers.py"


@pytest.mark.parametrize("target, path, name", [
    ("handler.py:main", "handler.py", "main"),
    ("/a/b:c/f.py:fn", "/a/b:c/f.py", "fn"),
])
def test_parse_target(target, path, name) -> None:
    assert functions.parse_target(target) == (Path(path), name)


@pytest.mark.parametrize("target", ["handler.py", "handler.py:", ":main", "h.py:not-a-name"])
def test_parse_target_names_the_rule(target) -> None:
    with pytest.raises(errors.Invalid, match="expected FILE:FUNCTION"):
        functions.parse_target(target)


@pytest.mark.parametrize("name, is_http, is_async, takes_context", [
    ("echo", False, False, True),
    ("reply", False, False, False),
    ("async_echo", False, True, False),
    ("web", True, False, False),
])
def test_load(name, is_http, is_async, takes_context) -> None:
    function = functions.load(f"{HANDLERS}:{name}")
    assert (function.name, function.is_http, function.is_async, function.takes_context) == (
        name, is_http, is_async, takes_context)
    assert function.init is not None and not function.init_fork_safe


@pytest.mark.parametrize("target, message", [
    (f"{HANDLERS}:missing", "defines no function 'missing'"),
    (f"{HANDLERS}:STUCK", "defines no function 'STUCK'"),     # not callable
    ("/nonexistent/h.py:main", "does not exist"),
])
def test_load_errors_name_the_problem(target, message) -> None:
    with pytest.raises(errors.Invalid, match=message):
        functions.load(target)


def test_markers_are_plain_attributes() -> None:
    def handler(event): ...
    def init(context): ...
    function = functions.make_function("h", functions.http(handler), functions.fork_safe(init))
    assert function.is_http and function.init_fork_safe
    assert handler.ripple_http is True and init.ripple_fork_safe is True


def test_a_fork_safe_init_must_be_sync() -> None:
    async def init(context): ...
    with pytest.raises(errors.Invalid, match="fork-safe init must be sync"):
        functions.make_function("h", lambda e: e, functions.fork_safe(init))


@pytest.mark.parametrize("handler, takes_context", [
    (lambda event: None, False),
    (lambda event, context: None, True),
    (lambda event, context=None: None, True),
    (lambda *args: None, True),
    (print, True),              # a builtin: *args
])
def test_context_is_passed_when_accepted(handler, takes_context) -> None:
    assert functions.make_function("h", handler).takes_context is takes_context


def test_request_helpers() -> None:
    request = functions.Request("GET", "/", "a=1&a=2&b", {}, b"\xff")
    assert request.query == {"a": "2", "b": ""}
    assert request.text == "\ufffd"
