"""The data plane of one process, assembled the same way by `ripple up` (this package's
`platform`) and by `ripple data-plane` on Kubernetes (`controllers.platforms.kubernetes.
dataplane`): the appender and its tracer, the delivery engine, the broker, channel and
source planes, the ingress tokens, the two ingresses and their fast path. Each platform
adds what is its own around it (the control API, serving, the informer's store)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from broker.plane import BrokerPlane
from channels import fastpath
from channels.appending import Appender
from channels.authorizing import IngressTokens
from channels.deliveries import Deliveries
from channels.ingress import Ingress
from channels.plane import ChannelPlane
from channels.queues import Queues
from channels.sending import HttpSender
from channels.tracing import Tracer
from controllers.platforms.local import routing
from ripple import telemetry
from ripple.informers import Informer
from ripple.settings import Settings
from sources.plane import SourcePlane


@dataclass
class Planes:
    appender: Appender
    tracer: Tracer
    sender: HttpSender
    deliveries: Deliveries
    brokers: BrokerPlane
    channels: ChannelPlane
    sources: SourcePlane
    broker_tokens: IngressTokens
    """`ripple.dev/ingress-auth` (issue #15): the tokens each annotated Broker requires."""
    channel_tokens: IngressTokens
    broker_ingress: Ingress
    channel_ingress: Ingress

    @property
    def applied(self) -> tuple[Any, ...]:
        """What reports how far it has applied the resources (`ripple.dataplane`)."""
        return (self.brokers, self.channels, self.sources)

    def sync(self) -> None:
        """Apply what the informer has, before serving: no 404s for brokers or channels that
        exist, and no anonymous event into one that requires a token."""
        self.brokers.sync()
        self.broker_tokens.sync()
        self.channel_tokens.sync()
        self.channels.sync()
        self.sources.sync()

    def protocol(self, *, router: routing.Claiming | None = None, api_port: int | None = None) -> type:
        """uvicorn's HTTP protocol with the ingresses' fast path (`channels.fastpath`): their
        POSTs skip ASGI; everything else reaches the root app."""
        return fastpath.protocol(routing.make_pick(ingress=self.broker_ingress, channels=self.channel_ingress,
                                                   router=router, api_port=api_port))

    async def close(self, drain_timeout: float) -> None:
        """Let in-flight deliveries finish within `drain_timeout`, then stop every plane and
        write the last trace records. The queues' deliveries and the KafkaSources' (in place,
        `sources.kafka.adapter`) drain side by side: a sink that hangs costs a stop one
        drain, not two."""
        await asyncio.gather(self.deliveries.close(drain_timeout=drain_timeout), self.sources.close())
        await self.brokers.close()
        await self.channels.close()
        await self.sender.close()
        with contextlib.suppress(Exception):  # a trace is evidence, never worth a failed stop
            await self.tracer.close()


def assemble(client: aioredis.Redis, informer: Informer, settings: Settings, *, consumer: str,
             trust: ssl.SSLContext | None = None) -> Planes:
    """The planes over `client`, following `informer`, as process `consumer` (its name in
    the consumer groups and in the trace records). `trust`: what the mesh's own https
    addresses chain to, for its deliveries."""
    appender = Appender(client, max_backlog=settings.ingress.max_backlog,
                        retry_after=settings.ingress.retry_after,
                        write_timeout=settings.ingress.write_timeout)
    sender = HttpSender(trust=trust)
    tracer = Tracer(client, settings.tracing, worker=consumer, spans=telemetry.spans_from_env())
    deliveries = Deliveries(Queues(client), sender, consumer=consumer, settings=settings.delivery,
                            tracer=tracer)
    brokers = BrokerPlane(client, informer, appender, deliveries, settings, consumer=consumer)
    brokers.fanouts.tracer = tracer
    appender.tracer = tracer  # a broker's ingress records where each event was accepted
    informer.subscribe(brokers.kick)
    channels = ChannelPlane(client, informer, deliveries, sender, settings, consumer=consumer,
                            on_length=appender.note_length)
    channels.fanouts.tracer = tracer
    informer.subscribe(channels.sync)
    sources = SourcePlane(client, informer, deliveries, sender, settings, consumer=consumer)
    informer.subscribe(sources.sync)
    broker_tokens = IngressTokens(informer, ("Broker",))
    informer.subscribe(broker_tokens.sync)
    channel_tokens = IngressTokens(informer, ("Channel", "InMemoryChannel"))
    informer.subscribe(channel_tokens.sync)
    return Planes(
        appender=appender, tracer=tracer, sender=sender, deliveries=deliveries,
        brokers=brokers, channels=channels, sources=sources,
        broker_tokens=broker_tokens, channel_tokens=channel_tokens,
        broker_ingress=Ingress(brokers.resolve, appender, settings.ingress, prepare=brokers.prepare,
                               tokens=broker_tokens),
        channel_ingress=Ingress(channels.resolve, appender, settings.ingress, kind="channel",
                                prefix="/channels", tokens=channel_tokens),
    )
