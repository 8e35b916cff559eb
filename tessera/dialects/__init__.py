"""Dialects: each vendor's wire format, translated to and from core commands.

A dialect owns a path prefix, mounts its routes, renders errors in its vendor's shape, and brings the
webhook formats its vendor's receivers expect. Adding a vendor means adding a folder and one line in
`DIALECTS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from tessera.core.errors import TesseraError
from tessera.core.identities import IdentityKind
from tessera.core.payments.model import Payment
from tessera.core.webhooks.formats import WebhookFormat


class Dialect(Protocol):
    name: str  # the channel of the payments it makes
    prefix: str

    def mount(self, app: FastAPI) -> None: ...
    def render_error(self, exc: TesseraError) -> Response: ...
    def render_validation(self, errors: list[dict[str, Any]]) -> Response: ...
    def render_http(self, status: int, detail: str) -> Response: ...
    def webhook_formats(self) -> Sequence[WebhookFormat]:
        """The outgoing webhook formats this dialect provides, each under a unique `name`."""
        ...

    def shopper_return(self, payment: Payment) -> dict[str, str]:
        """What the shopper's browser carries back to the merchant's return_url, in this dialect's
        words (its id and status parameters)."""
        ...

    def shopper_return_url(self, payment: Payment) -> str | None:
        """Where the shopper's browser goes back to once the payment is settled (a vendor may keep one
        URL for success and another for failure)."""
        ...

    def identity_kinds(self) -> Sequence[IdentityKind]:
        """The per-merchant identities this dialect registers (`core.identities`)."""
        ...


class _PrefixRouter(APIRouter):
    """A dialect's routes, passed over at once by a request for a path outside its prefix. FastAPI tries every
    included router's routes in turn (a regex and scope bookkeeping each): a request for the last dialect's
    path was tried against every other dialect's routes first, some 110 µs a request (py-spy, OPPWA's
    debit against the native payment)."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._within = (prefix, prefix + "/")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path != self._within[0] and not path.startswith(self._within[1]):
            return Match.NONE, {}
        return super().matches(scope)


class ModuleDialect:
    """A dialect whose routes live in one router and whose error bodies come from one `errors` module
    (with `error_response`, `validation_response` and `http_response`)."""

    name: str
    prefix: str

    def __init__(self, router: APIRouter, errors: ModuleType) -> None:
        self._router = router
        self._errors = errors

    def mount(self, app: FastAPI) -> None:
        guard = _PrefixRouter(self.prefix)
        guard.include_router(self._router)
        app.include_router(guard)

    def render_error(self, exc: TesseraError) -> Response:
        response: Response = self._errors.error_response(exc)
        return response

    def render_validation(self, errors: list[dict[str, Any]]) -> Response:
        response: Response = self._errors.validation_response(errors)
        return response

    def render_http(self, status: int, detail: str) -> Response:
        response: Response = self._errors.http_response(status, detail)
        return response

    def webhook_formats(self) -> Sequence[WebhookFormat]:
        return ()

    def shopper_return_url(self, payment: Payment) -> str | None:
        return payment.return_url

    def identity_kinds(self) -> Sequence[IdentityKind]:
        return ()


def _dialects() -> list[Dialect]:
    from tessera.dialects.eximpe import EximpeDialect
    from tessera.dialects.native import NativeDialect
    from tessera.dialects.oppwa import OppwaDialect
    from tessera.dialects.paysecure import PaysecureDialect

    return [NativeDialect(), EximpeDialect(), PaysecureDialect(), OppwaDialect()]


DIALECTS: list[Dialect] = _dialects()


def dialect_named(name: str) -> Dialect:
    """The dialect that made payments of channel `name`; the native one for a channel no longer served."""
    for dialect in DIALECTS:
        if dialect.name == name:
            return dialect
    return DIALECTS[0]


def dialect_for(path: str) -> Dialect:
    """The dialect whose prefix the path falls under; the native one for everything else."""
    for dialect in DIALECTS:
        if dialect.prefix != "/v1" and (path == dialect.prefix or path.startswith(dialect.prefix + "/")):
            return dialect
    return DIALECTS[0]
