"""The Parallel example's branch filters, each served by `ripple function serve` as a
Knative Service (see parallel.yaml).

A Parallel's filter passes an event to its branch's subscriber by replying with it, and
drops it by answering with no event: returning the event is a binary-mode reply, returning
None answers 202 with no body.
"""


def number(event):
    data = event.data
    value = data.get("n") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def even(event):
    n = number(event)
    return event if n is not None and n % 2 == 0 else None


def odd(event):
    n = number(event)
    return event if n is not None and n % 2 == 1 else None
