"""Every test run gets its own Ripple config file (`RIPPLE_CONFIG`, issue #15).

`ripple up` records its API token there and the CLI reads it, exactly as for a user, so
the e2e meshes and the CLI they run find each other's token with no flag, and no test ever
writes the real `~/.config/ripple/config.yaml`. Set here, at configuration, so that every
process a test starts inherits it.

And every process a test starts hears Ctrl-C. A test run started in the background by a
non-interactive shell (`make test &`, a CI runner's job) has SIGINT ignored, exec keeps
an ignored signal, and a Python child whose SIGINT is ignored at start never raises
KeyboardInterrupt: the tests that send SIGINT to a `ripple` command (a replay, the CI demo)
would wait on a process that cannot hear it. A handler of ours becomes the default in
each child.

`valkey_cluster` is a real 3-node Valkey Cluster for the session, shared by the
integration and e2e tests that run Ripple on Redis Cluster; started only when one asks.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.valkey_cluster import ValkeyCluster


def pytest_configure(config: pytest.Config) -> None:
    directory = tempfile.mkdtemp(prefix="ripple-config-")
    os.environ["RIPPLE_CONFIG"] = os.path.join(directory, "config.yaml")
    os.environ.pop("RIPPLE_TOKEN", None)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def valkey_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValkeyCluster]:
    """A real 3-node Valkey Cluster for the session (about 2 s to form); its `url` is
    `redis+cluster://127.0.0.1:PORT`. Tests empty it themselves (`flush`) where they need to."""
    from tests.support.valkey_cluster import ValkeyCluster

    cluster = ValkeyCluster(tmp_path_factory.mktemp("valkey-cluster")).start()
    try:
        yield cluster
    finally:
        cluster.stop()
