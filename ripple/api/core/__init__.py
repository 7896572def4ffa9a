"""The core (`v1`) API group: the kinds Ripple borrows from Kubernetes, Secret and ConfigMap.

Imported by `ripple.api`; importing `secret` registers the kind.
"""

from __future__ import annotations

from ripple.api.core import configmap, secret

__all__ = ["configmap", "secret"]
