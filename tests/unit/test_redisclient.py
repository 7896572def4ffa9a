"""ripple.redisclient: hiredis's packer must put the same bytes on the wire as redis-py's."""

from __future__ import annotations

import pytest

from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from ripple import redisclient


@pytest.mark.parametrize("args", [
    ("PING",),
    ("SET", "k", "v"),
    ("CONFIG GET", "maxmemory"),                                   # a two-word command name
    ("XADD", b"stream", "*", b"a", b'{"type":"t"}', b"d", b"\x00\xff"),
    ("EVALSHA", "a" * 40, 1, "key", 8, b"x" * 10_000),             # a value past redis-py's buffer cutoff
    ("ZADD", "s", 1764220000.123456, "m"),                         # a float score
    ("ZADD", "s", 0.1, "m"),
    ("SET", "ü", "é"),                                             # str is UTF-8
    ("EXPIRE", "k", -1),
    ("SET", "k", memoryview(b"view")),                             # redis-py passes views on
])
def test_same_bytes_as_redis_py(args: tuple) -> None:
    ours = b"".join(redisclient.HiredisPackingConnection().pack_command(*args))
    theirs = b"".join(bytes(c) for c in Connection().pack_command(*args))
    assert ours == theirs


def test_a_type_hiredis_refuses_gets_redis_pys_error() -> None:
    with pytest.raises(DataError):
        redisclient.HiredisPackingConnection().pack_command("SET", "k", True)


@pytest.mark.parametrize("url, expected", [
    ("redis://127.0.0.1:6379/0", redisclient.HiredisPackingConnection),
    ("rediss://127.0.0.1:6379/0", None),                           # TLS keeps redis-py's class
    ("unix:///tmp/valkey.sock", None),
])
def test_connect_uses_the_packer_for_plain_tcp(url: str, expected: type | None) -> None:
    client = redisclient.connect(url)
    cls = client.connection_pool.connection_class
    assert (cls is expected) if expected else (cls is not redisclient.HiredisPackingConnection)
