"""The merchant dashboard: server-rendered pages (Jinja2) under `/dashboard/`, with htmx packaged here.

Pages call the services facade (`core.services`) as the dialects do; they never reach storage. `mount`
is the one line `app.py` calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    # Imported here, not above: the command line imports `tessera.dashboard.cli`, and every `tessera`
    # process (the acquirer simulator, `merchant create`, the worker) paid for the pages' imports at start.
    from fastapi.responses import RedirectResponse
    from fastapi.staticfiles import StaticFiles

    from tessera.dashboard import auth, developers, home, payments, users

    for module in (auth, home, payments, developers, users):
        app.include_router(module.router)
    app.mount("/dashboard/static", StaticFiles(directory=Path(__file__).parent / "static"), name="dashboard-static")
    app.include_router(home.not_found)  # last: any other /dashboard/ path is an HTML 404

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/dashboard/", status_code=307)

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard_root() -> RedirectResponse:
        return RedirectResponse("/dashboard/", status_code=307)


__all__ = ["mount"]
