"""A mesh on a Valkey Cluster whose shape changes under it, as an operator's would.

Three primaries, each with a replica. While events flow into two Brokers through
`ripple up --workers 2`:

- the slot of one Broker's keys (its log, its Triggers' queues and schedules) moves to
  another primary, key by key, as `valkey-cli --cluster reshard` moves it, three times;
- after each move its new owner fails over to its replica (a manual `CLUSTER FAILOVER`,
  which loses nothing acknowledged); the third is the other Broker's primary too.

Every event that got a 202 reaches its subscriber; while a slot is half moved the ingress
may answer 503 with Retry-After, never anything else; once the cluster is settled again
every post is accepted, without a restart.

And when a primary dies (SIGKILL) with its replica behind, the replica that takes over
lacks the primary's last writes: Redis replicates asynchronously. With the store URL's
`?replica_acks=1` no event only the primary had was answered 202, so none is lost; without
it, the events accepted while the replica lagged are.
"""

from __future__ import annotations

import collections
import signal
import time
from pathlib import Path

import pytest
import redis.crc

from ripple import keys
from tests.support.manifests import broker_and_trigger
from tests.support.mesh import Mesh
from tests.support.prober import Ledger, PacedSender, wait_until
from tests.support.sinks import Answer, RecordingSink
from tests.support.valkey_cluster import ValkeyCluster, broker_on_node

pytestmark = pytest.mark.e2e

TRIGGERS = "/apis/eventing.knative.dev/v1/namespaces/default/triggers"
RATE, DURATION = 100.0, 15.0
SETTLED = 3.0
"""Seconds after the last change from which every post must be accepted."""


A, B = broker_on_node(0), broker_on_node(2)
SLOT_A = redis.crc.key_slot(keys.broker_log("default", A).encode())
C = broker_on_node(1)
"""The Broker of the primary that dies: not node 0, the seed of the mesh's store URL."""
SLOT_C = redis.crc.key_slot(keys.broker_log("default", C).encode())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    c = ValkeyCluster(tmp_path_factory.mktemp("cluster-with-replicas"), replicas=1).start()
    try:
        yield c
    finally:
        c.stop()


def test_a_slot_moved_round_the_primaries_each_failed_over_loses_no_accepted_event(
        cluster: ValkeyCluster, data_dir: Path) -> None:
    ledger = Ledger()

    def behaviour(request, n) -> Answer:  # every 10th event's first attempt fails: retries too
        return Answer(503) if n % 10 == 0 else Answer(202)

    with RecordingSink(ledger.behaviour(behaviour)) as sink:
        mesh = Mesh(data_dir, workers=2, extra=["--redis-url", cluster.url]).start()
        try:
            mesh.apply("---".join(
                broker_and_trigger(broker, trigger, f"{sink.url}/{path}", retry=10, backoff_delay="PT0.1S")
                for broker, trigger, path in ((A, "every-a", "a"), (B, "every-b", "b"))))
            for name in ("every-a", "every-b"):
                mesh.wait_ready(f"{TRIGGERS}/{name}")
            senders = [PacedSender(mesh, f"/default/{broker}", rate=RATE, duration=DURATION,
                                   prefix=broker).start() for broker in (A, B)]
            changes: list[tuple[str, float, float]] = []

            def change(what: str, action) -> None:
                started = time.time()
                action()
                changes.append((what, started, time.time()))

            # A's slot goes round the primaries one key at a time, and each new owner fails
            # over to its replica (which then owns it)
            for _ in range(3):
                time.sleep(1)
                owner, primaries = cluster.owner_of(SLOT_A), cluster.primaries()
                to = next(p for p in primaries if p != owner)
                change(f"slot {SLOT_A} to node {to}",
                       lambda: cluster.move_slot(SLOT_A, to=to, batch=1, pause=0.2))
                time.sleep(1)
                replica = cluster.replica_of(to)
                change(f"node {to} failed over to {replica}", lambda: cluster.failover(replica=replica))
            sent = [s.join() for s in senders]

            accepted = [i for s in sent for i in s.accepted]
            statuses = sum((s.statuses for s in sent), collections.Counter())
            settled = changes[-1][2] + SETTLED
            late = sum((s.answered_between(settled, float("inf")) for s in sent), collections.Counter())
            print(f"\n{len(accepted)} of {sum(statuses.values())} accepted: {dict(statuses)}; "
                  f"after the cluster settled: {dict(late)}; changes took "
                  + ", ".join(f"{what} {end - start:.2f} s" for what, start, end in changes))
            assert set(statuses) <= {202, 503}, f"answers other than 202 and 503: {dict(statuses)}"
            assert late and set(late) == {202}, f"still refusing once the cluster settled: {dict(late)}"
            assert wait_until(lambda: ledger.has_all(accepted), timeout=60, interval=0.1), (
                f"lost: {sorted(set(accepted) - set(ledger.delivered()))[:20]}")
            delivered = ledger.delivered()
            duplicates = sum(n - 1 for n in delivered.values())
            print(f"delivered {len(delivered)}, duplicates {duplicates}")
            assert "Traceback" not in mesh.log.read_text(), "a traceback in ripple up's log"
        finally:
            mesh.stop()


@pytest.mark.parametrize("replica_acks", [1, 0])
def test_a_primary_killed_while_its_replica_lags_loses_only_what_replica_acks_refused(
        tmp_path: Path, data_dir: Path, replica_acks: int) -> None:
    ledger = Ledger()
    # The subscriber refuses the events sent from `refused[0]` on (by their `sentat`), until
    # the cluster is whole again: those wait in the store. An event sent before it is taken
    # at once, so none waits on a retry the promoted replica never heard of (it would wait
    # for the 60 s reclaim), and a repeat of one is a duplicate, not a loss.
    refused = [float("inf")]

    def behaviour(request, n) -> Answer:
        return Answer(503) if float(request.ce.get("sentat", "0")) >= refused[0] else Answer(202)

    cluster = ValkeyCluster(tmp_path / "cluster", replicas=1).start()
    url = f"{cluster.url}?replica_acks=1" if replica_acks else cluster.url
    try:
        with RecordingSink(ledger.behaviour(behaviour)) as sink:
            mesh = Mesh(data_dir, workers=2, extra=["--redis-url", url]).start()
            try:
                mesh.apply(broker_and_trigger(C, "every-c", f"{sink.url}/c", retry=30,
                                              backoff_delay="PT0.1S"))
                mesh.wait_ready(f"{TRIGGERS}/every-c")
                sender = PacedSender(mesh, f"/default/{C}", rate=RATE, duration=14.0, prefix="c").start()
                time.sleep(2)
                primary = cluster.owner_of(SLOT_C)
                replica = cluster.replica_of(primary)
                # the replica falls behind: stopped, and its link cut, so what the primary
                # writes from now on is only in the primary's backlog; and the subscriber
                # refuses what is sent from now on, so what is accepted waits in the queue
                cluster.procs[replica].send_signal(signal.SIGSTOP)
                with cluster.client(primary) as c:
                    c.execute_command("CLIENT", "KILL", "TYPE", "replica")
                lagging = refused[0] = time.time()
                time.sleep(1.5)
                cluster.procs[primary].send_signal(signal.SIGKILL)
                killed = time.time()
                cluster.procs[replica].send_signal(signal.SIGCONT)  # it takes over, without them
                cluster.wait_for_owner(SLOT_C, replica)
                cluster.restart(primary)  # back as the new primary's replica: acks possible again
                restarted = time.time()
                refused[0] = float("inf")
                sent = sender.join()
                while_lagging = sent.answered_between(lagging + 0.05, killed)
                lagged = {i for i, sent_at, answered, status in sent.posts
                          if status == 202 and lagging <= answered and sent_at <= killed}
                # what was accepted outside the lag arrives; what was accepted in it, if at all, too
                assert wait_until(lambda: ledger.has_all(set(sent.accepted) - lagged), timeout=30,
                                  interval=0.1), "lost events accepted while the replica kept up"
                wait_until(lambda: ledger.has_all(lagged), timeout=5, interval=0.1)
                lost = set(sent.accepted) - set(ledger.delivered())
                late = sent.answered_between(restarted + 1, float("inf"))
                print(f"\nreplica_acks={replica_acks}: {dict(sent.statuses)}; while the replica "
                      f"lagged: {dict(while_lagging)}; lost {len(lost)}; once it had a replica "
                      f"again: {dict(late)}; failover and rejoin took {restarted - killed:.1f} s")
                assert set(sent.statuses) <= {202, 503, None}, dict(sent.statuses)
                if replica_acks:
                    assert not lost, f"lost {len(lost)}: {sorted(lost)[:20]}"
                    assert 202 not in sent.answered_between(lagging + 0.05, killed + 0.5)
                else:  # the control: the same kill without the option loses the lagged events
                    assert lost and lost <= lagged, (len(lost), len(lagged))
                assert late[202] > 0 and set(late) == {202}, dict(late)  # it serves again
            finally:
                mesh.stop()
    finally:
        cluster.stop()
