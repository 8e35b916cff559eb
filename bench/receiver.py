"""A webhook receiver that answers 200 at once and counts: `python -m bench.receiver PORT`.

POST anything: counted. GET /count: how many so far. It runs in its own process so its CPU is not
the worker's.
"""

from __future__ import annotations

import sys

from aiohttp import web


def main() -> None:
    port = int(sys.argv[1])
    count = 0

    async def hook(_request: web.Request) -> web.Response:
        nonlocal count
        count += 1
        return web.Response(status=200)

    async def read(_request: web.Request) -> web.Response:
        return web.Response(text=str(count))

    app = web.Application()
    app.router.add_post("/hooks", hook)
    app.router.add_get("/count", read)
    app.router.add_get("/readyz", read)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
