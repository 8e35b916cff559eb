"""The EximPe dialect: seeds 000 and 004 under /eximpe (Save Card API and token management)."""

from __future__ import annotations

from tessera.dialects import ModuleDialect


class EximpeDialect(ModuleDialect):
    prefix = "/eximpe"

    def __init__(self) -> None:
        from tessera.dialects.eximpe import errors
        from tessera.dialects.eximpe.router import router

        super().__init__(router, errors)
