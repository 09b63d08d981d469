"""Reference: a bare ``websockets`` server that broadcasts one message to all.

Clients get a small snapshot on connect; a control client sending
``{"broadcast": "<text>"}`` makes the server ``websockets.broadcast`` the text
to every other connection. Loopback only.
"""

import argparse
import asyncio
import json

from websockets.asyncio.server import broadcast, serve

clients: set = set()


async def handler(connection) -> None:
    if connection.request.path == "/control":
        async for message in connection:
            broadcast(clients, json.loads(message)["broadcast"])
        return
    clients.add(connection)
    try:
        await connection.send('{"type":"snapshot","version":1,"data":{}}')
        await connection.wait_closed()
    finally:
        clients.discard(connection)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, backlog=4096):
        print(f"ready {port}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
