"""A function whose init is marked fork-safe: the zygote runs it once, replicas inherit it."""

import os

import serving


@serving.fork_safe
def init(context):
    context.user_data["init_pid"] = os.getpid()


def where(event, context):
    return {"pid": os.getpid(), "init_pid": context.user_data["init_pid"]}
