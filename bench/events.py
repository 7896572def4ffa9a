"""The one event every benchmark sends: binary mode, 100 bytes of JSON data.

Used by the load generators (`bench.loadgen`, the wrk script in `bench.wrk`) and by the
delivery benchmarks, which write the same event straight into a broker log.
"""

from __future__ import annotations

DATA = b'{"bench":"' + b"x" * 88 + b'"}'
assert len(DATA) == 100

SOURCE = "/ripple/bench"
MATCH = "bench.match"
"""The type the one matching Trigger of every benchmark filters on."""


def headers(
    event_id: str, type_: str = MATCH, extra: dict[str, str] | None = None
) -> dict[str, str]:
    out = {"ce-specversion": "1.0", "ce-id": event_id, "ce-source": SOURCE, "ce-type": type_,
           "content-type": "application/json"}
    if extra:
        out.update(extra)
    return out
