"""OPPWA's per-merchant identity: the `entityId` (32 lowercase hex, as OPPWA's) clients send with every
call beside the Bearer token. Registered with the core (`core.identities`), one per merchant and mode;
it carries no secret."""

from __future__ import annotations

import secrets

from tessera.core.identities import MadeIdentity

KIND = "entity_id"  # the name it is printed under by `tessera merchant create --json`


class EntityIdentity:
    name = KIND

    def make(self) -> MadeIdentity:
        return MadeIdentity(public_id=secrets.token_hex(16))
