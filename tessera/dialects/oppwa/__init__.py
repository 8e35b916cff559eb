"""The OPPWA dialect: seed 003 (ACI's Open Payment Platform, server to server) under /oppwa/v1:
initial payments with card data or a registration (PA, DB), back-office operations (CP, RF, RV, RB, CB,
CR, RC), the throttled status call and the report (`query`), registrations, and OPPWA's result codes."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.core.identities import IdentityKind
from tessera.core.payments.model import Payment
from tessera.core.webhooks.formats import WebhookFormat
from tessera.dialects import ModuleDialect


class OppwaDialect(ModuleDialect):
    name = "oppwa"
    prefix = "/oppwa"

    def __init__(self) -> None:
        from tessera.dialects.oppwa import errors
        from tessera.dialects.oppwa.router import router

        super().__init__(router, errors)

    def shopper_return(self, payment: Payment) -> dict[str, str]:
        from tessera.dialects.oppwa.router import shopper_params

        return shopper_params(payment)

    def shopper_return_url(self, payment: Payment) -> str | None:
        from tessera.dialects.oppwa.router import shopper_url

        return shopper_url(payment)

    def identity_kinds(self) -> Sequence[IdentityKind]:
        from tessera.dialects.oppwa.identity import EntityIdentity

        return (EntityIdentity(),)

    def webhook_formats(self) -> Sequence[WebhookFormat]:
        from tessera.dialects.oppwa.notifications import OppwaNotificationFormat

        return (OppwaNotificationFormat(),)
