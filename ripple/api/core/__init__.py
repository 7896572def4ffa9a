"""The core (`v1`) API group: the kinds Ripple borrows from Kubernetes, for now Secret.

Imported by `ripple.api`; importing `secret` registers the kind.
"""

from __future__ import annotations

from ripple.api.core import secret

__all__ = ["secret"]
