"""The native dialect: seed 002's tokens and payments under /v1, with seed 003's operations and the vault."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.core.payments.model import Payment
from tessera.core.webhooks.formats import WebhookFormat
from tessera.dialects import ModuleDialect


class NativeDialect(ModuleDialect):
    name = "native"
    prefix = "/v1"

    def __init__(self) -> None:
        from tessera.dialects.native import errors
        from tessera.dialects.native.router import router

        super().__init__(router, errors)

    def shopper_return(self, payment: Payment) -> dict[str, str]:
        from tessera.dialects.native.translate import STATUS

        return {"payment_id": payment.id, "status": STATUS[payment.status]}

    def webhook_formats(self) -> Sequence[WebhookFormat]:
        from tessera.dialects.native.webhook_format import NativeWebhookFormat

        return (NativeWebhookFormat(),)
