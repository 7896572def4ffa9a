"""Ripple: a Knative-compatible eventing mesh and serving layer on Redis streams.

The kernel package. It holds what every layer shares: the resource API (`ripple.api`),
the CloudEvents codec (`ripple.cloudevents`), CESQL (`ripple.cesql`), the error tree
(`ripple.errors`), settings, Redis keys and connections, and the resource store. The CLI
(`ripple.cli`) is the composition root and the only kernel module that imports the layers
above it.
"""

__version__ = "0.1.0"
