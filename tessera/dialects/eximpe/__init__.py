"""The EximPe dialect: seeds 000 and 004 under /eximpe (S2S orders, Save Card API and token management)."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.core.payments.model import Payment
from tessera.core.webhooks.formats import WebhookFormat
from tessera.dialects import ModuleDialect


class EximpeDialect(ModuleDialect):
    name = "eximpe"
    prefix = "/eximpe"

    def __init__(self) -> None:
        from tessera.dialects.eximpe import errors
        from tessera.dialects.eximpe.router import router

        super().__init__(router, errors)

    def shopper_return(self, payment: Payment) -> dict[str, str]:
        """An order returns with its `order_id` and seed 000's status."""
        from tessera.dialects.eximpe.order_translate import STATUS

        return {"order_id": payment.id, "status": STATUS[payment.status]}

    def webhook_formats(self) -> Sequence[WebhookFormat]:
        from tessera.dialects.eximpe.callback import EximpeCallbackFormat

        return (EximpeCallbackFormat(),)
