"""Functions the serving tests load with `FILE:FUNCTION`, as a user's module would be.

One module, many handlers: each test names the one it serves. `init` counts its runs in
`user_data` and records the pid it ran in, so a test can tell "once per process" apart
from "once per request" and "in the zygote" apart from "in the replica".
"""

import asyncio
import os
import threading
import time

from cloudevents.v1.http import CloudEvent

import serving


def init(context):
    context.user_data["inits"] = context.user_data.get("inits", 0) + 1
    context.user_data["init_pid"] = os.getpid()
    context.user_data["connection"] = object()   # stands for a client init builds once
    context.logger.info("init ran")


def echo(event, context):
    return {"type": event["type"], "data": event.data, "inits": context.user_data["inits"],
            "connection": id(context.user_data["connection"]), "pid": os.getpid(),
            "init_pid": context.user_data["init_pid"]}


def reply(event):
    return CloudEvent({"type": f"reply.{event['type']}", "source": "/handlers",
                       "subject": "caf\u00e9 bar"}, {"got": event.data})


def raw(event):
    return b"\x00\x01raw"


def nothing(event):
    return None


async def async_echo(event):
    await asyncio.sleep(0)
    return {"async": True, "id": event["id"]}


@serving.http
def web(request):
    return {"method": request.method, "path": request.path, "query": request.query,
            "body": request.text}


@serving.http
def web_nothing(request):
    return None


@serving.http
def web_teapot(request):
    return serving.Response("short and stout", status=418, headers={"x-pot": "tea"})


def boom(event):
    raise ValueError("the handler broke\nsecond line not shown")


def bad_return(event):
    return 42


STUCK = threading.Event()


def stuck(event):
    STUCK.wait(60)   # a sync handler that never returns in time


async def announced_sleep(event):
    os.close(os.open(event.data["marker"], os.O_CREAT | os.O_WRONLY))  # "in flight" for the test
    await asyncio.sleep(event.data["seconds"])
    return {"slept": event.data["seconds"]}


async def swallows_cancellation(event):
    while True:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            pass


async def stuck_async(event):
    await asyncio.sleep(60)


async def blocks_loop(event):
    time.sleep(60)  # noqa: ASYNC251 -- an async handler that blocks the event loop itself
