"""Every test run gets its own Ripple config file (`RIPPLE_CONFIG`, issue #15).

`ripple up` records its API token there and the CLI reads it, exactly as for a user, so
the e2e meshes and the CLI they run find each other's token with no flag, and no test ever
writes the real `~/.config/ripple/config.yaml`. Set here, at configuration, so that every
process a test starts inherits it.
"""

from __future__ import annotations

import os
import tempfile

import pytest


def pytest_configure(config: pytest.Config) -> None:
    directory = tempfile.mkdtemp(prefix="ripple-config-")
    os.environ["RIPPLE_CONFIG"] = os.path.join(directory, "config.yaml")
    os.environ.pop("RIPPLE_TOKEN", None)
