"""Table for channels.ingress.parse_address: the statuses Knative answers malformed paths
with (`pkg/broker/ingress/ingress_handler.go`, `pkg/channel/references.go`)."""

from __future__ import annotations

import pytest

from channels.ingress import parse_address
from ripple import errors


@pytest.mark.parametrize(
    "path, prefix, kind, expected",
    [
        ("/ns/b", "", "broker", ("ns", "b")),
        ("/ns/b/", "", "broker", ("ns", "b")),  # one trailing slash is tolerated
        ("/", "", "broker", 404),
        ("/ns", "", "broker", 400),
        ("/ns/", "", "broker", 400),
        ("/ns/b/x", "", "broker", 400),
        ("/ns/b//", "", "broker", 400),
        ("//ns/b", "", "broker", 400),
        ("///", "", "broker", 400),  # `/%2F/` unquoted: no namespace, no name
        ("/ns//", "", "broker", 400),
        ("//b", "", "broker", 400),
        ("/channels/ns/c", "/channels", "channel", ("ns", "c")),
        ("/channels/ns/c/", "/channels", "channel", ("ns", "c")),
        ("/channels/", "/channels", "channel", 400),  # ParseChannelFromPath: `/` is 400 too
        ("/channels/ns", "/channels", "channel", 400),
        ("/channels/ns/c/x", "/channels", "channel", 400),
        ("/channels/ns//", "/channels", "channel", 400),
    ],
)
def test_parse_address(path: str, prefix: str, kind: str, expected: tuple[str, str] | int) -> None:
    if isinstance(expected, tuple):
        assert parse_address(path, prefix, kind) == expected
        return
    with pytest.raises(errors.InvalidInput) as caught:
        parse_address(path, prefix, kind)
    assert errors.http_status(caught.value) == expected
    assert "/<namespace>/<name>" in str(caught.value)
