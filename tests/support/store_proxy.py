"""A TCP proxy in front of a store that can turn into a black hole, alone in a process
(`StoreProxy` in `tests.support.chaos` runs it).

    python -m tests.support.store_proxy TARGET_PORT

Prints its port on the first line. SIGUSR1 makes it a black hole, as when a network
partition drops packets: bytes in either direction are held, and new connections are
held unconnected. SIGUSR2 heals it, as TCP's retransmissions would: held bytes go
through, late (a command its client gave up on still runs), and held connections are
connected through unless their client closed them. Each switch prints `black` or `open`.
"""

from __future__ import annotations

import asyncio
import signal
import sys


class Proxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.passing = asyncio.Event()
        self.passing.set()

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        await self.passing.wait()
        if client_r.at_eof():
            client_w.close()
            return
        try:
            store_r, store_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(self.pipe(client_r, store_w), self.pipe(store_r, client_w))

    async def pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self.passing.wait()
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    def switch(self, passing: bool) -> None:
        if passing:
            self.passing.set()
        else:
            self.passing.clear()
        print("open" if passing else "black", flush=True)


async def main(target_port: int) -> None:
    proxy = Proxy(target_port)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, proxy.switch, False)
    loop.add_signal_handler(signal.SIGUSR2, proxy.switch, True)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
