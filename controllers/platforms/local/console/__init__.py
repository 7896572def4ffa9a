"""The console at `/console/`: topology with live edge figures, resource pages, the
dead-letter browser, trace search and serving. Server-rendered HTML (`pages`) on the data
the operations API serves (`operations.Operations`, the same object its JSON routes use);
the live parts are `static/console.js`, which reads that JSON API. No build step.

Mounted by `apiserver.make_api` (so it sits behind the API's token wherever the API does);
`app` builds it.
"""

from __future__ import annotations

from controllers.platforms.local.console.app import app

__all__ = ["app"]
