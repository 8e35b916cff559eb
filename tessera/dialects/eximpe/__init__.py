"""The EximPe dialect: seeds 000 and 004 under /eximpe (Save Card API and token management)."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.core.webhooks.formats import WebhookFormat
from tessera.dialects import ModuleDialect


class EximpeDialect(ModuleDialect):
    prefix = "/eximpe"

    def __init__(self) -> None:
        from tessera.dialects.eximpe import errors
        from tessera.dialects.eximpe.router import router

        super().__init__(router, errors)

    def webhook_formats(self) -> Sequence[WebhookFormat]:
        from tessera.dialects.eximpe.callback import EximpeCallbackFormat

        return (EximpeCallbackFormat(),)
