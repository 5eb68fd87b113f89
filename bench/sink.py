"""A loopback HTTP sink for the benchmarks, run as its own process: ``python -m bench.sink``.

It answers every POST with 200 and notes when each request arrived (``time.time()``) under its ``webhook-id``
header (or a running number). ``GET /stats`` reports the counts (``?arrivals=1`` adds the arrival times) and
``POST /reset`` forgets everything. The port it listens on is printed as the first line of stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from aiohttp import web


class Sink:
    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0
        self.arrivals: dict[str, float] = {}
        self.duplicates = 0

    async def hook(self, request: web.Request) -> web.Response:
        now = time.time()
        body = await request.read()
        self.count += 1
        self.bytes += len(body)
        key = request.headers.get("webhook-id") or f"#{self.count}"
        if key in self.arrivals:
            self.duplicates += 1
        else:
            self.arrivals[key] = now
        return web.Response(text="ok")

    async def stats(self, request: web.Request) -> web.Response:
        data: dict[str, object] = {
            "count": self.count,
            "unique": len(self.arrivals),
            "duplicates": self.duplicates,
            "bytes": self.bytes,
        }
        if request.query.get("arrivals") == "1":
            data["arrivals"] = self.arrivals
        return web.Response(text=json.dumps(data), content_type="application/json")

    async def reset(self, _request: web.Request) -> web.Response:
        self.__init__()  # type: ignore[misc]
        return web.Response(text="ok")


async def serve(port: int) -> None:
    sink = Sink()
    app = web.Application()
    app.router.add_get("/stats", sink.stats)
    app.router.add_post("/reset", sink.reset)
    app.router.add_post("/{tail:.*}", sink.hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    print(sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
