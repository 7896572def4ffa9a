"""A function whose init fails: the host must log it and exit 1 before serving."""


def init(context):
    raise RuntimeError("cannot reach the database")


def handler(event):
    return None
