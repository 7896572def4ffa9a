"""ripple.redisclient: hiredis's packer must put the same bytes on the wire as redis-py's; one
list of the errors that mean "the store cannot answer now", translated into ripple.errors."""

from __future__ import annotations

import pytest
import redis.exceptions
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from ripple import errors, redisclient


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


@pytest.mark.parametrize("exc, unavailable", [
    (redis.exceptions.ConnectionError("refused"), True),
    (redis.exceptions.BusyLoadingError("LOADING"), True),
    (redis.exceptions.TimeoutError("timed out"), True),
    (redis.exceptions.ReadOnlyError("READONLY"), True),
    (redis.exceptions.OutOfMemoryError("OOM"), True),
    (redis.exceptions.MasterDownError("MASTERDOWN"), True),
    (redis.exceptions.TryAgainError("TRYAGAIN"), True),
    (redis.exceptions.ClusterDownError("CLUSTERDOWN"), True),
    (redis.exceptions.MovedError("3999 127.0.0.1:6381"), True),  # a redirect nobody followed
    (redis.exceptions.AskError("3999 127.0.0.1:6381"), True),
    (redis.exceptions.ClusterError("TTL exhausted."), True),     # redirected too many times
    (redis.exceptions.SlotNotCoveredError("slot 3999 is not covered"), True),
    (redis.exceptions.RedisClusterUnreachableError("no node answered"), True),
    (ConnectionResetError(), True),
    (TimeoutError(), True),
    (redis.exceptions.ResponseError("WRONGTYPE"), False),  # a bug, not an outage
    (redis.exceptions.NoScriptError("NOSCRIPT"), False),
    (redis.exceptions.ClusterCrossSlotError("CROSSSLOT"), False),  # keys without a shared tag: a bug
    (redis.exceptions.CrossSlotTransactionError("keys in 2 slots"), False),
])
def test_one_list_of_unavailable_errors(exc: Exception, unavailable: bool) -> None:
    assert isinstance(exc, redisclient.UNAVAILABLE) is unavailable


def test_an_unavailable_error_becomes_a_temporary_error_with_its_delay() -> None:
    translated = redisclient.translate(redis.exceptions.OutOfMemoryError("OOM command not allowed"),
                                       delay=2.0)
    assert isinstance(translated, errors.StoreUnavailable)
    assert isinstance(translated, errors.TemporaryError)
    assert errors.http_status(translated) == 503 and errors.retry_after(translated) == "2"
    assert "OutOfMemoryError" in str(translated)
