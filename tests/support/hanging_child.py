"""A subscriber that never answers, alone in a process (`HangingSink` in
`tests.support.chaos` runs it), so its connections cost the measuring test nothing.

    python -m tests.support.hanging_child

Prints its port on the first line, then `+` for every connection accepted and `-` for
every connection the caller closed (its timeout). Reads requests and never answers; runs
until killed.
"""

from __future__ import annotations

import selectors
import socket
import sys


def main() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    listener.setblocking(False)
    out = sys.stdout
    out.write(f"{listener.getsockname()[1]}\n")
    out.flush()
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock is listener:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                selector.register(conn, selectors.EVENT_READ)
                out.write("+")
            else:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    continue
                selector.unregister(sock)
                sock.close()
                out.write("-")
        out.flush()


if __name__ == "__main__":
    main()
