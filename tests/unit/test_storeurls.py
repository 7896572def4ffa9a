"""`ripple.storeurls`: Ripple's `?replica_acks=N` in a store URL, read and stripped."""

from __future__ import annotations

import pytest

from ripple import storeurls


@pytest.mark.parametrize(("url", "acks", "plain"), [
    ("redis://h:6379/0", 0, "redis://h:6379/0"),
    ("redis://h:6379/0?replica_acks=1", 1, "redis://h:6379/0"),
    ("redis+cluster://h:7000?replica_acks=2", 2, "redis+cluster://h:7000"),
    ("rediss://u:p@h:6380/1?ssl_cert_reqs=none&replica_acks=0", 0, "rediss://u:p@h:6380/1?ssl_cert_reqs=none"),
    ("redis://h/0?socket_timeout=3", 0, "redis://h/0?socket_timeout=3"),
    ("unix:///run/valkey.sock?db=2&replica_acks=1", 1, "unix:///run/valkey.sock?db=2"),
])
def test_the_option_is_read_and_left_out_of_what_redis_py_gets(url: str, acks: int, plain: str) -> None:
    assert storeurls.replica_acks(url) == acks
    assert storeurls.for_redis_py(url) == plain


@pytest.mark.parametrize(("url", "message"), [
    ("redis://h/0?replica_acks=", "replica_acks: must be a whole number of replicas from 0 to 16, got ''"),
    ("redis://h/0?replica_acks=-1", "got '-1'"),
    ("redis://h/0?replica_acks=one", "got 'one'"),
    ("redis://h/0?replica_acks=17", "got '17'"),
    ("redis://h/0?replica_acks=1&replica_acks=2", "replica_acks: give it once, got 2 values"),
])
def test_a_bad_value_names_the_option_and_its_rule(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        storeurls.replica_acks(url)
