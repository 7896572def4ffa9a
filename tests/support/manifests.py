"""Knative YAML the end-to-end tests apply more than once."""

from __future__ import annotations


def broker_and_trigger(broker: str, trigger: str, subscriber: str, retry: int,
                       backoff_delay: str = "PT0.05S") -> str:
    """A Broker in `default` and one Trigger on it that takes every event to `subscriber`,
    retried `retry` times with a linear backoff."""
    return f"""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: {broker}, namespace: default}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: {trigger}, namespace: default}}
spec:
  broker: {broker}
  subscriber: {{uri: '{subscriber}'}}
  delivery: {{retry: {retry}, backoffPolicy: linear, backoffDelay: {backoff_delay}}}
"""
