"""`tessera user ...`: dashboard users, over the dashboard's services (registered by `tessera.cli`).

The password comes from a terminal prompt (asked twice), from standard input with `--password-stdin`,
or, when neither is possible, is made here and printed once: it is stored only as an argon2id hash.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from typing import Any

import click

from tessera.core.dashboard.model import User


@click.group()
def user() -> None:
    """Manage dashboard users."""


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password, and whether it was made here (and must be printed)."""
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise click.UsageError("--password-stdin read an empty line")
        return value, False
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True), False
    return secrets.token_urlsafe(18), True


@user.command("create")
@click.option("--merchant", "merchant_id", required=True, help="the merchant's id (mer_...)")
@click.option("--email", required=True, help="the user's email, their sign-in name")
@click.option("--role", required=True, type=click.Choice(["admin", "developer", "viewer"]))
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of standard input")
@click.option("--database-url", default=None, help="sqlite:///path or postgresql://... (TESSERA_DATABASE_URL)")
def user_create(merchant_id: str, email: str, role: str, password_stdin: bool, database_url: str | None) -> None:
    """Create a dashboard user for a merchant."""
    from tessera import cli

    settings = cli._settings(database_url)
    cli._migrate(settings)
    password, made = _password(password_stdin)
    created = asyncio.run(create_user(settings, merchant_id, email, role, password))
    click.echo(f"user {created.id} <{created.email}> ({created.role.value}) for {created.merchant_id}")
    if made:
        click.echo(f"one-time password (shown once): {password}")


async def create_user(settings: Any, merchant_id: str, email: str, role: str, password: str) -> User:
    from tessera.bootstrap import build
    from tessera.core.errors import NotFoundError

    container = build(settings)
    try:
        await container.services.merchants.settings(merchant_id)  # NotFoundError for an unknown merchant
        assert container.services.dashboard is not None
        return await container.services.dashboard.create_user(merchant_id, email, role, password)
    except NotFoundError as exc:
        raise click.ClickException(f"no merchant {merchant_id}") from exc
    finally:
        await container.close()
