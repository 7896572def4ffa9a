"""Adapter reports: how the data plane tells the control plane what only it can see.

A KafkaSource is Ready only once a consumer reached the cluster and its group holds
offsets (`ConnectionEstablished`, `InitialOffsetsCommitted`), which only the process
running the consumer knows. The data plane never writes status, so each process writes a
small report per source into a Redis hash (`keys.source_report`, one field per process,
refreshed every `INTERVAL` seconds, expiring after `TTL`), and the local controller reads
the reports before each reconcile pass and hands them to the pure reconcilers.

The write and the read live in the kernel (`ripple.reporting`), shared with `serving`.
"""

from ripple.reporting import INTERVAL, TTL, Report, SourceKey, read, write

__all__ = ["INTERVAL", "TTL", "Report", "SourceKey", "read", "write"]
