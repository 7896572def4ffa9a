"""A KafkaSource adapter alone in a process, for tests that kill it (`kill -9`) mid-stream.

    python -m tests.support.kafka_consumer_child '{"bootstrap": ..., "topic": ..., "group": ...,
                                                   "sink": ..., "ordered": true}'

Consumes `topic` from the start with `group` and delivers to `sink` with short group
sessions (1 s) so that a successor gets the partitions quickly. Prints `ready` once the
adapter has partitions; runs until killed, or until SIGTERM, which stops it cleanly.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from channels.dispatching import Target
from channels.identities import Kind, TargetKey
from channels.policies import DeliveryPolicy
from channels.sending import HttpSender
from ripple import metrics
from sources.kafka.adapter import KafkaAdapter, KafkaConfig
from tests.support.kafka import leader_syncs_last


async def main(options: dict[str, object]) -> None:
    config = KafkaConfig(
        namespace="ns", name="child", bootstrap_servers=(str(options["bootstrap"]),),
        topics=(str(options["topic"]),), group=str(options["group"]), initial_offset="earliest",
        ordered=bool(options.get("ordered", True)), key_type="string", extensions={},
        session_timeout=1.0, heartbeat_interval=0.2, commit_interval=0.1,
    )
    target = Target(key=TargetKey(Kind.KAFKA_SOURCE, "ns", "child"), stream="", schedule="",
                    namespace="ns",
                    subscriber_uri=str(options["sink"]),
                    policy=DeliveryPolicy(retry=5, backoff_policy="exponential", backoff_delay=0.05),
                    labels=metrics.source_labels("ns", Kind.KAFKA_SOURCE, "child"))
    sender = HttpSender()
    adapter = KafkaAdapter(config, target, sender)
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    await adapter.start()
    while not adapter.assignment and not stopping.is_set():
        await asyncio.sleep(0.02)
    print("ready", flush=True)
    await stopping.wait()
    await adapter.stop()
    await sender.close()


if __name__ == "__main__":
    with leader_syncs_last():  # a second member may join while this one leads
        asyncio.run(main(json.loads(sys.argv[1])))
