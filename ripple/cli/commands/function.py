"""`ripple function serve FILE:FUNCTION` and `ripple function zygote FILE:FUNCTION --socket PATH`.

Registered by `ripple.cli.main`. `serve` runs the function host (`serving.hosting`) on
`$PORT` (Knative's runtime contract; `--port` overrides, 8080 without either); `zygote`
runs the forking parent of `serving.zygote`. Both import `serving` only when they run, so
the other commands do not pay for it.
"""

from __future__ import annotations

import argparse
import os

from ripple import errors
from ripple.cli.client import Client

DEFAULT_PORT = 8080
SERVE_EPILOG = """\
The handler receives a CloudEvent (cloudevents.v1.http.CloudEvent, binary or structured
mode), or a serving.Request if it is decorated with @serving.http. It returns a
CloudEvent (a binary-mode reply), a dict/list (JSON), bytes/str, serving.Response, or None
(202 for an event, 204 for HTTP). handler(event) or handler(event, context); sync or async.
An optional init(context) in the same file runs once per process before the first request;
context.user_data is shared with every request. GET /healthz answers 200 once init ran.
Past the timeout a request gets 504 and the process exits with 75 to be restarted.
"""


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    function = commands.add_parser("function", help="serve a Python function over HTTP")
    verbs = function.add_subparsers(dest="verb", required=True, metavar="VERB")

    serve = verbs.add_parser(
        "serve", help="serve FILE:FUNCTION on $PORT", epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("target", metavar="FILE:FUNCTION", help="e.g. handler.py:main")
    serve.add_argument("--port", type=int, help=f"default: $PORT, else {DEFAULT_PORT}")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    serve.add_argument("--timeout", type=float,
                       help="timeoutSeconds (default: $RIPPLE_TIMEOUT_SECONDS, else 300)")
    serve.set_defaults(handler=run_serve)

    zygote = verbs.add_parser("zygote", help="fork replicas of FILE:FUNCTION on request")
    zygote.add_argument("target", metavar="FILE:FUNCTION", help="e.g. handler.py:main")
    zygote.add_argument("--socket", required=True, help="the Unix socket to listen on")
    zygote.add_argument("--timeout", type=float,
                        help="timeoutSeconds (default: $RIPPLE_TIMEOUT_SECONDS, else 300)")
    zygote.add_argument("--parent-pid", type=int, help="exit when this process dies")
    zygote.set_defaults(handler=run_zygote)


def port_of(flag: int | None, environ: dict[str, str] | os._Environ[str]) -> int:
    """--port, else $PORT, else 8080; a bad value names its origin and the rule."""
    if flag is not None:
        origin, text = "--port", str(flag)
    elif environ.get("PORT"):
        origin, text = "PORT", environ["PORT"]
    else:
        return DEFAULT_PORT
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise errors.Invalid(f"{origin}={text!r}: must be a port number, 0 to 65535")
    return int(text)


def run_serve(args: argparse.Namespace, api: Client) -> int:
    from ripple import logs
    from serving import functions, hosting

    port = port_of(args.port, os.environ)
    if args.timeout is not None and not args.timeout > 0:
        raise errors.Invalid(f"--timeout={args.timeout:g}: must be seconds above 0")
    timeout = args.timeout or hosting.timeout_from_env()
    logs.configure()
    function = functions.load(args.target)
    try:
        sock = hosting.bind(args.host, port)
    except OSError as failure:
        raise errors.Invalid(f"--port {port}: cannot listen on {args.host}: {failure.strerror}"
                             ) from None
    hosting.run(function, sock, timeout=timeout)


def run_zygote(args: argparse.Namespace, api: Client) -> int:
    from serving import zygote

    return zygote.run(args)
