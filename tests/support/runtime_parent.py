"""A stand-in for a worker running the revision runtime: scales two revisions, prints pids.

`python -m tests.support.runtime_parent OUT` starts a command revision (two replicas of
`replica_server.py`) and a function revision (two replicas forked from a zygote), writes
`{"parent": pid, "pids": [...], "socket_dirs": [...]}` to the file OUT once all four are ready (not to stdout:
an orphan would hold that pipe open), then waits forever, so
a test can SIGKILL it and check that nothing it started outlives it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from serving import runtime

SUPPORT = Path(__file__).resolve().parent


def revision(name: str, container: dict[str, object],
             annotations: dict[str, str] | None = None) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
            "spec": {"containers": [container]}}


async def main(out: str) -> None:
    rt = runtime.Runtime()
    command = revision("cmd-00001", {"command": [sys.executable, str(SUPPORT / "replica_server.py")]})
    function = revision("fn-00001", {}, {"ripple.dev/function":
                                         f"{SUPPORT / 'functions' / 'handlers.py'}:echo"})
    for obj in (command, function):
        rt.scale(obj, 2)
    while len(rt.endpoints(command)) < 2 or len(rt.endpoints(function)) < 2:
        await asyncio.sleep(0.02)
    pids = [pid for rev in rt.revisions.values() for pid in rev.pids()]
    sockets = [rev._socket_dir for rev in rt.revisions.values() if rev._socket_dir]
    Path(out + ".tmp").write_text(json.dumps({"parent": os.getpid(), "pids": pids,
                                              "socket_dirs": sockets}))
    os.rename(out + ".tmp", out)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
