"""A Python function served by Ripple: `ripple function serve` runs it on $PORT.

It answers a CloudEvent with another (a binary-mode reply, which a Broker takes back in),
so a Trigger can send events to this Service and other Triggers can pick up the replies.
"""

import os

from cloudevents.v1.http import CloudEvent


def init(context):
    # once per process, before the first request: connections and caches go here
    context.user_data["greeting"] = os.environ.get("GREETING", "hello")


def main(event, context):
    name = (event.data or {}).get("name", "world") if isinstance(event.data, dict) else "world"
    return CloudEvent({"type": "dev.example.greeted", "source": "/examples/greeter"},
                      {"greeting": f"{context.user_data['greeting']} {name}",
                       "revision": os.environ.get("K_REVISION")})
