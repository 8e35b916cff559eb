"""What the server's start-up leaves behind it: the heap it built frozen out of the cyclic collector's way,
so that a full collection on a request's path walks only what requests made."""

from __future__ import annotations

import gc

from tessera.app import create_app
from tessera.bootstrap import Container


async def test_start_up_freezes_the_heap_it_built(container: Container) -> None:
    app = create_app(container.settings, container=container, embedded_worker=False)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 100_000  # the modules, the app and its routes at the least
    finally:
        gc.unfreeze()  # the test process's own heap goes back to the collector
