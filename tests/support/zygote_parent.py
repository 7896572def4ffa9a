"""A stand-in for the revision runtime: starts a zygote, forks replicas, prints the pids.

`python -m tests.support.zygote_parent SOCKET N` prints one JSON line,
`{"parent": pid, "zygote": pid, "replicas": [pid, ...]}`, then waits forever, so a test
can kill this process and check that nothing it started outlives it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from serving import zygote

HANDLERS = Path(__file__).resolve().parent / "functions" / "handlers.py"


async def main(path: str, count: int) -> None:
    handle = await zygote.Zygote.start(f"{HANDLERS}:echo", path)
    replicas = [await handle.fork() for _ in range(count)]
    print(json.dumps({"parent": os.getpid(), "zygote": handle.pid,
                      "replicas": [r.pid for r in replicas],
                      "ports": [r.port for r in replicas]}), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
