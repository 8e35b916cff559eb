"""The Paysecure dialect: seed 001 under /paysecure/api/v1 (purchases, the S2S card post, the shopper's
callback URL, refunds, saved cards, and callbacks signed with `paysecure-sign`)."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.core.identities import IdentityKind
from tessera.core.payments.model import Payment
from tessera.core.webhooks.formats import WebhookFormat
from tessera.dialects import ModuleDialect


class PaysecureDialect(ModuleDialect):
    name = "paysecure"
    prefix = "/paysecure"

    def __init__(self) -> None:
        from tessera.dialects.paysecure import errors
        from tessera.dialects.paysecure.router import router

        super().__init__(router, errors)

    def shopper_return(self, payment: Payment) -> dict[str, str]:
        from tessera.dialects.paysecure.router import shopper_params

        return shopper_params(payment)

    def shopper_return_url(self, payment: Payment) -> str | None:
        from tessera.dialects.paysecure.router import shopper_url

        return shopper_url(payment)

    def identity_kinds(self) -> Sequence[IdentityKind]:
        from tessera.dialects.paysecure.identity import BrandIdentity

        return (BrandIdentity(),)

    def webhook_formats(self) -> Sequence[WebhookFormat]:
        from tessera.dialects.paysecure.callback import PaysecureCallbackFormat

        return (PaysecureCallbackFormat(),)
