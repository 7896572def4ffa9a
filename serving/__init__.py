"""Serving's data plane: the Python function host and its zygote (issue #10).

`serving.http` and `serving.fork_safe` are the two markers a function's module may use;
see `serving.functions`. Importing `serving` imports nothing else of the host, so a
function module that uses the markers stays cheap to load.
"""

from serving.functions import Request, Response, fork_safe, http

__all__ = ["Request", "Response", "fork_safe", "http"]
