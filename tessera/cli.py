"""The `tessera` command line: a thin layer over `bootstrap`, the services and the worker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from tessera import logs
from tessera.dashboard import cli as dashboard_cli
from tessera.pan_scan import scan_pans
from tessera.settings import Settings
from tessera.storage.engine import is_sqlite

# How `serve` runs uvicorn, beside the host and port (bench/ceiling_app.py serves its program the same way).
UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,
    "log_config": None,
    "lifespan": "on",
    "timeout_graceful_shutdown": 5,
}

_DB_OPTION = click.option(
    "--database-url", default=None, help="sqlite:///path or postgresql://... (TESSERA_DATABASE_URL)"
)


def _settings(database_url: str | None = None, **overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)


def _migrate(settings: Settings) -> None:
    from tessera.storage.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)


class _Group(click.Group):
    """Configuration mistakes end the command with their message, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from tessera.core.errors import TesseraError
        from tessera.keys import KeyConfigurationError

        try:
            return super().invoke(ctx)
        except (KeyConfigurationError, TesseraError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Group)
def main() -> None:
    """Tessera, a self-hosted server-to-server card payment gateway."""


@main.command()
@_DB_OPTION
def migrate(database_url: str | None) -> None:
    """Bring the database schema up to date."""
    settings = _settings(database_url)
    logs.configure(settings.log_level, settings.log_format)
    _migrate(settings)
    click.echo("database is up to date")


async def _demo_credentials(settings: Settings) -> dict[str, str] | None:
    """Create the demo test merchant on an empty database; its credentials are kept in the data
    folder (test mode only) so every start can print them again."""
    from tessera.bootstrap import build
    from tessera.core.merchants import create_merchant

    path = settings.data_dir / "demo-credentials.json"
    container = build(settings)
    try:
        await container.start()
        async with container.uow(read_only=True) as tx:
            empty = await tx.merchants.count() == 0
        if empty:
            _merchant, creds = await create_merchant(
                "Demo Merchant",
                uow=container.uow,
                allowed_domains=settings.demo_domains,
                callback_url=settings.demo_callback_url,
            )
            from tessera.core.clock import utcnow
            from tessera.sandbox.demo import save_seed_card

            await save_seed_card(_merchant.id, uow=container.uow, cipher=container.keyring, now=utcnow())
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(creds[0].as_dict(), handle, indent=2)
        if not path.exists():
            return None
        content: dict[str, str] = json.loads(path.read_text())
        if "dashboard_email" not in content and content.get("merchant_id"):
            # The demo merchant's dashboard login, made once (also for a data folder from before the dashboard).
            from tessera.sandbox.demo import DEMO_DASHBOARD_EMAIL, demo_password

            dashboard = container.services.dashboard
            assert dashboard is not None
            from tessera.core.errors import ConflictError

            password = demo_password()
            try:
                await dashboard.create_user(content["merchant_id"], DEMO_DASHBOARD_EMAIL, "admin", password)
            except ConflictError:  # a shared database whose demo user another data folder made
                password = "(kept in the data folder that made it)"
            content |= {"dashboard_email": DEMO_DASHBOARD_EMAIL, "dashboard_password": password}
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(content, handle, indent=2)
        # The secret as stored now (a migration may have rewritten it into standard Base64).
        from tessera.storage.queries import webhook_secret_of

        stored = await webhook_secret_of(container.db, content.get("merchant_id", ""))
        if stored:
            content["webhook_secret"] = stored
        return content
    finally:
        await container.close()


@main.command()
@click.option("--host", default=None, help="interface to listen on (default 127.0.0.1)")
@click.option("--port", default=None, type=int, help="port (default 8000)")
@_DB_OPTION
@click.option("--no-worker", is_flag=True, help="do not run the background worker in this process")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="HTTP processes (PostgreSQL only)"
)
def serve(host: str | None, port: int | None, database_url: str | None, no_worker: bool, workers: int) -> None:
    """Migrate, then serve every dialect, the sandbox and operations endpoints."""
    import uvicorn

    settings = _settings(database_url, host=host, port=port)
    if workers > 1 and is_sqlite(settings.resolved_database_url):
        raise click.UsageError(
            "--workers > 1 needs PostgreSQL: SQLite is the single-process embedded store "
            "(its writers would wait on each other's locks with the event loop blocked)"
        )
    logs.configure(settings.log_level, settings.log_format)
    _migrate(settings)
    creds = asyncio.run(_demo_credentials(settings))
    base = settings.resolved_public_url
    if creds:
        click.echo(
            "\nTessera is starting on {base}\n\nDemo merchant (test mode):\n"
            "  merchant_id      {merchant_id}\n  client_id        {client_id}\n"
            "  secret_key       {secret_key}\n  publishable_key  {publishable_key}\n"
            "  webhook_secret   {webhook_secret}\n\nDashboard: {base}/dashboard/\n"
            "  email            {dashboard_email}\n  password         {dashboard_password}\n\n"
            "API docs: {base}/docs\n".format(base=base, **creds),
            err=False,
        )
        sys.stdout.flush()
    common: dict[str, Any] = {"host": settings.host, "port": settings.port, **UVICORN_OPTIONS}
    if workers == 1:
        from tessera.app import create_app

        uvicorn.run(create_app(settings, embedded_worker=not no_worker), **common)
        return
    # Several processes: each builds its settings from the environment, so what this command line
    # said (and what it resolved, such as the public URL from --host and --port) must be put there,
    # over anything the environment held: a worker must never send shoppers to another port.
    os.environ["TESSERA_EMBEDDED_WORKER"] = "0" if no_worker else "1"
    os.environ["TESSERA_DATABASE_URL"] = settings.resolved_database_url
    os.environ["TESSERA_DATA_DIR"] = str(settings.data_dir.resolve())
    os.environ["TESSERA_HOST"] = settings.host
    os.environ["TESSERA_PORT"] = str(settings.port)
    os.environ["TESSERA_PUBLIC_URL"] = settings.resolved_public_url
    uvicorn.run("tessera.app:create_app_from_env", factory=True, workers=workers, **common)


@main.command()
@_DB_OPTION
def worker(database_url: str | None) -> None:
    """Run only the background worker (webhook deliveries, recovery, expiries, clean-up); several may run
    at once on PostgreSQL."""
    from tessera import worker as jobs
    from tessera.bootstrap import build

    settings = _settings(database_url)
    logs.configure(settings.log_level, settings.log_format)
    _migrate(settings)

    async def run() -> None:
        container = build(settings)
        await container.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await jobs.run_forever(container, stop)
        finally:
            await container.close()

    asyncio.run(run())


@main.group()
def merchant() -> None:
    """Manage merchants."""


@merchant.command("create")
@click.option("--name", required=True, help="the merchant's display name")
@click.option("--allow-domain", "domains", multiple=True, help="a return-URL domain to allow (repeatable)")
@click.option("--callback-url", default=None, help="where seed 000's server-to-server callbacks go")
@click.option("--live", is_flag=True, help="also issue live-mode credentials")
@click.option("--json", "as_json", is_flag=True, help="print the test credentials as one JSON object")
@_DB_OPTION
def merchant_create(
    name: str, domains: tuple[str, ...], callback_url: str | None, live: bool, as_json: bool, database_url: str | None
) -> None:
    """Create a merchant and print its credentials (shown once: keys are stored only as hashes)."""
    from tessera.bootstrap import build
    from tessera.core.merchants import create_merchant

    settings = _settings(database_url)
    logs.configure("WARNING", settings.log_format)
    _migrate(settings)

    async def run() -> list[dict[str, str]]:
        container = build(settings)
        try:
            await container.start()  # the vault's keys seal the identities' secrets
            _m, creds = await create_merchant(
                name,
                uow=container.uow,
                allowed_domains=list(domains) or None,
                callback_url=callback_url,
                modes=("test", "live") if live else ("test",),
            )
            # Each dialect's identifiers (Paysecure's brand_id), made with the merchant, one per mode.
            identities = container.services.identities
            return [c.as_dict() | await identities.all_of(c.merchant_id, c.mode) for c in creds]
        finally:
            await container.close()

    creds = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(creds[0]))
        for extra in creds[1:]:
            click.echo(json.dumps(extra))
        return
    for c in creds:
        click.echo(f"{c['mode']} mode")
        for key in c:
            if key != "mode":
                click.echo(f"  {key:<16} {c[key]}")


@merchant.command("update")
@click.argument("merchant_id")
@click.option("--callback-url", default=None, help="set or change where the merchant's callbacks go (every mode)")
@click.option("--no-callback-url", is_flag=True, help="remove the callback URL: no more callbacks")
@click.option(
    "--allow-domain", "domains", multiple=True, help="a return-URL domain to allow (repeatable; replaces the list)"
)
@click.option(
    "--attempt-budget", type=click.IntRange(1, 10), default=None, help="how many cards an intent may try (1-10)"
)
@click.option(
    "--allow-ip", "ips", multiple=True, help="a CIDR or address secret keys may be used from (repeatable; replaces)"
)
@click.option("--no-allow-ip", is_flag=True, help="remove the API IP allowlist: secret keys work from anywhere")
@click.option(
    "--ip-mode",
    type=click.Choice(["test", "live"]),
    default=None,
    help="change only this mode's IP allowlist (default: every mode)",
)
@click.option(
    "--charge",
    "charges",
    multiple=True,
    help="a fee BRAND:CURRENCY:BASIS_POINTS:FIXED, * for any brand or currency, e.g. visa:EUR:290:25 "
    "(repeatable; replaces the list)",
)
@click.option("--no-charges", is_flag=True, help="remove every charge (live payments are then refused)")
@click.option("--json", "as_json", is_flag=True, help="print the merchant's settings as one JSON object")
@_DB_OPTION
def merchant_update(
    merchant_id: str,
    callback_url: str | None,
    no_callback_url: bool,
    domains: tuple[str, ...],
    attempt_budget: int | None,
    ips: tuple[str, ...],
    no_allow_ip: bool,
    ip_mode: str | None,
    charges: tuple[str, ...],
    no_charges: bool,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Change a merchant's callback URL, allowed return-URL domains, attempt budget, API IP allowlist or
    charges, and print its settings."""
    from tessera.bootstrap import build
    from tessera.core.errors import ValidationError
    from tessera.core.merchants import MerchantSettings, UpdateMerchant
    from tessera.core.risk.model import parse_charge

    if callback_url is not None and no_callback_url:
        raise click.UsageError("use --callback-url or --no-callback-url, not both")
    if ips and no_allow_ip:
        raise click.UsageError("use --allow-ip or --no-allow-ip, not both")
    if charges and no_charges:
        raise click.UsageError("use --charge or --no-charges, not both")
    try:
        parsed = [parse_charge(c) for c in charges]
    except ValidationError as exc:
        raise click.BadParameter(exc.message, param_hint="--charge") from None
    settings = _settings(database_url)
    logs.configure("WARNING", settings.log_format)
    _migrate(settings)
    cmd = UpdateMerchant(
        merchant_id,
        callback_url=callback_url,
        remove_callback_url=no_callback_url,
        allowed_domains=list(domains) if domains else None,
        attempt_budget=attempt_budget,
        allowed_ips=list(ips) if ips else ([] if no_allow_ip else None),
        allowed_ips_modes=[ip_mode] if ip_mode else None,
        charges=parsed if charges else ([] if no_charges else None),
    )

    async def run() -> MerchantSettings:
        container = build(settings)
        try:
            return await container.services.merchants.update(cmd)
        finally:
            await container.close()

    done = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(done.as_dict()))
        return
    click.echo(f"merchant_id      {done.merchant_id}")
    click.echo(f"allowed_domains  {', '.join(done.allowed_domains) or '(none)'}")
    click.echo(f"attempt_budget   {done.attempt_budget}")
    for mode, url in done.callback_urls.items():
        click.echo(f"callback_url     {url or '(none)'} ({mode} mode)")
    for mode in ("test", "live"):
        if done.allowed_ips.get(mode):
            click.echo(f"allowed_ips      {', '.join(done.allowed_ips[mode])} ({mode} mode)")
    for c in done.charges:
        click.echo(f"charge           {c.brand}:{c.currency}:{c.percent_bp}:{c.fixed}")


@merchant.command("revoke-key")
@click.argument("merchant_id")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="print the revoked key as one JSON object")
@_DB_OPTION
def merchant_revoke_key(merchant_id: str, key: str, as_json: bool, database_url: str | None) -> None:
    """Revoke one of a merchant's keys at once, named by its id (key_...), its 12-character prefix or the
    key itself. Only the revoked key's id and prefix are printed."""
    from tessera.bootstrap import build
    from tessera.core.merchants import ApiKey, revoke_key

    settings = _settings(database_url)
    logs.configure("WARNING", settings.log_format)
    _migrate(settings)

    async def run() -> ApiKey:
        container = build(settings)
        try:
            return await revoke_key(merchant_id, key, uow=container.uow)
        finally:
            await container.close()

    done = asyncio.run(run()).describe()
    if as_json:
        click.echo(json.dumps({"revoked": done}))
        return
    click.echo(f"revoked {done['kind']} key {done['key_id']} ({done['prefix']}..., {done['mode']} mode)")


@merchant.command("roll-key")
@click.argument("merchant_id")
@click.option("--live", is_flag=True, help="roll the live-mode secret key instead of the test-mode one")
@click.option("--json", "as_json", is_flag=True, help="print the new key and the revoked ones as one JSON object")
@_DB_OPTION
def merchant_roll_key(merchant_id: str, live: bool, as_json: bool, database_url: str | None) -> None:
    """Issue a new secret key for a mode and revoke the old one, at once. The new key is printed this
    once (it is stored only as a hash); the revoked ones by id and prefix."""
    from tessera.bootstrap import build
    from tessera.core.merchants import RolledKey, roll_key

    settings = _settings(database_url)
    logs.configure("WARNING", settings.log_format)
    _migrate(settings)

    async def run() -> RolledKey:
        container = build(settings)
        try:
            return await roll_key(merchant_id, "live" if live else "test", uow=container.uow)
        finally:
            await container.close()

    done = asyncio.run(run())
    revoked = [k.describe() for k in done.revoked]
    if as_json:
        new = {**done.key.describe(), "client_id": done.key.client_id, "secret_key": done.secret_key}
        click.echo(json.dumps({"issued": new, "revoked": revoked}))
        return
    click.echo(f"{done.key.mode} mode")
    click.echo(f"  client_id        {done.key.client_id}")
    click.echo(f"  secret_key       {done.secret_key}")
    for old in revoked:
        click.echo(f"  revoked          {old['key_id']} ({old['prefix']}...)")


main.add_command(dashboard_cli.user)


@main.command()
@click.option("--forward-to", required=True, help="the local URL each event is POSTed to, signed")
@click.option("--merchant", "merchant_id", default=None, help="whose events (default: the demo merchant)")
@click.option("--live", is_flag=True, help="follow live-mode events instead of test-mode ones")
@click.option("--events", default=None, help="comma-separated event types to forward (default: all)")
@_DB_OPTION
def listen(forward_to: str, merchant_id: str | None, live: bool, events: str | None, database_url: str | None) -> None:
    """Follow a merchant's events as they happen and forward each, signed with its webhook secret, to a
    local URL, printing one line per event. Ctrl-C stops."""
    from urllib.parse import urlsplit

    from tessera.bootstrap import webhook_formats
    from tessera.core.webhooks.formats import DEFAULT_FORMAT
    from tessera.listen import listen as follow
    from tessera.storage.engine import create_database
    from tessera.storage.queries import merchant_ids, webhook_secret_of

    if urlsplit(forward_to).scheme not in ("http", "https") or not urlsplit(forward_to).hostname:
        raise click.BadParameter("must be an absolute http or https URL", param_hint="--forward-to")
    settings = _settings(database_url)
    logs.configure("WARNING", settings.log_format)
    _migrate(settings)
    mode = "live" if live else "test"

    # Loaded before "Ready!" is printed: importing the dialects takes a moment, and events that happen
    # after "Ready!" must be forwarded.
    native = webhook_formats()[DEFAULT_FORMAT]

    async def run() -> None:
        db = create_database(settings.resolved_database_url, pool_size=4)
        try:
            chosen = merchant_id or _demo_merchant_id(settings) or await _only_merchant(db)
            secret = await webhook_secret_of(db, chosen)
            if secret is None:
                raise click.ClickException(f"no merchant {chosen}")
            click.echo(f"Ready! Forwarding {mode}-mode events of {chosen} to {forward_to}")
            click.echo(f"Deliveries are signed with the merchant's webhook secret {secret} (Ctrl-C to quit)")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            types = [t.strip() for t in events.split(",") if t.strip()] if events else None
            await follow(
                db,
                merchant_id=chosen,
                mode=mode,
                secret=secret,
                forward_to=forward_to,
                webhook_format=native,
                types=types,
                stop=stop,
                echo=lambda line: click.echo(line),
            )
        finally:
            await db.dispose()

    async def _only_merchant(db: Any) -> str:
        found = await merchant_ids(db)
        if len(found) != 1:
            raise click.ClickException("name the merchant with --merchant (there is no demo merchant here)")
        return found[0]

    asyncio.run(run())


def _demo_merchant_id(settings: Settings) -> str | None:
    path = settings.data_dir / "demo-credentials.json"
    try:
        found = json.loads(path.read_text()).get("merchant_id")
    except (OSError, ValueError, AttributeError):
        return None
    return str(found) if found else None


@main.command("demo-shop")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to listen on")
@click.option("--port", default=8100, show_default=True, type=int, help="port (another origin than Tessera's)")
@click.option("--tessera-url", default=None, help="where browsers and the shop reach Tessera (default: its public URL)")
@click.option(
    "--credentials",
    "credentials_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="the merchant's credentials JSON (default: the demo merchant's, written by `tessera serve`)",
)
def demo_shop(host: str, port: int, tessera_url: str | None, credentials_path: str | None) -> None:
    """Serve a sample checkout (seed 002 in the browser): tessera.js tokenizes the card in the page and the
    shop's backend pays with the token and its secret key. Start `tessera serve` first."""
    import uvicorn

    from tessera.demo_shop import ShopConfig, create_shop_app

    settings = _settings()
    path = Path(credentials_path) if credentials_path else settings.data_dir / "demo-credentials.json"
    try:
        creds = json.loads(path.read_text())
        config = ShopConfig(tessera_url or settings.resolved_public_url, creds["publishable_key"], creds["secret_key"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"no merchant credentials in {path}: run `tessera serve` once first") from exc
    logs.configure(settings.log_level, settings.log_format)
    click.echo(f"Demo shop on http://localhost:{port}/ (Tessera at {config.tessera_url})")
    sys.stdout.flush()
    uvicorn.run(create_shop_app(config), host=host, port=port, log_config=None, access_log=False)


@main.group()
def vault() -> None:
    """Manage the card vault's keys."""


@vault.command("rotate")
@_DB_OPTION
@click.option("--kek", is_flag=True, help="also make a new key-encryption key version (key-file setups)")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def vault_rotate(database_url: str | None, kek: bool, yes: bool) -> None:
    """Make a new data key current and re-encrypt every stored card with it.

    Safe to interrupt and run again: it carries on with what is still under an older key. Servers keep
    reading throughout, and start encrypting with the new key within TESSERA_VAULT_REFRESH_SECONDS.
    """
    from tessera.bootstrap import build
    from tessera.core.vault.keys import load_data_keys, rewrap_data_keys, rotate_data_key
    from tessera.core.vault.rotation import count_stale, reencrypt_all
    from tessera.keys import add_kek_version

    settings = _settings(database_url)
    logs.configure("WARNING", settings.log_format)
    _migrate(settings)
    if not yes and sys.stdin.isatty():
        what = "a new key-encryption key and data key" if kek else "a new data key"
        click.confirm(f"Make {what} current and re-encrypt every stored card?", abort=True)

    async def run() -> None:
        container = build(settings)
        try:
            await load_data_keys(container.keyring, uow=container.uow)
            if kek:
                material = add_kek_version(container.key_material)
                container.keyring.keks = material.keks
                rewrapped = await rewrap_data_keys(container.keyring, uow=container.uow)
                click.echo(
                    f"key-encryption key version {material.keks.current} is current; {rewrapped} data keys re-wrapped"
                )
            version = await rotate_data_key(container.keyring, uow=container.uow)
            click.echo(f"data key version {version} is current")
            total = await count_stale(container.keyring, uow=container.uow)
            started = time.perf_counter()
            with click.progressbar(length=total, label="re-encrypting", show_pos=True) as bar:
                done = await reencrypt_all(container.keyring, uow=container.uow, progress=bar.update)
            elapsed = time.perf_counter() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            click.echo(f"re-encrypted {done} fields in {elapsed:.2f} s ({rate:,.0f} per second)")
        finally:
            await container.close()

    asyncio.run(run())


# The operator's card-number scan lives in its own package; only its command is registered here.
main.add_command(scan_pans)


@main.command("acquirer-sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to listen on")
@click.option("--port", default=8583, type=int, show_default=True, help="ISO 8583 port (0: any free port)")
@click.option("--ledger", "ledger", required=True, type=click.Path(path_type=Path), help="the ledger's SQLite file")
@click.option("--settlement", default=None, type=click.Path(path_type=Path), help="default: LEDGER.settlement")
@click.option("--control-port", default=None, type=int, help="loopback HTTP control endpoint (0: any free port)")
@click.option("--header", default=2, type=click.Choice(["2", "4"]), show_default=True, help="length prefix bytes")
@click.option("--length", default="binary", type=click.Choice(["binary", "ascii"]), show_default=True)
@click.option("--tpdu", default="", help="5-byte TPDU in hex after the length prefix")
@click.option("--bitmap", default="binary", type=click.Choice(["binary", "hex"]), show_default=True)
@click.option("--fault", "faults", multiple=True, help="drop=0.1, delay=0.1, delay_seconds=3, close, garble, ...")
@click.option("--event-period", default=10.0, type=float, show_default=True, help="seconds between refuse/restart")
def acquirer_sim(
    host: str,
    port: int,
    ledger: Path,
    settlement: Path | None,
    control_port: int | None,
    header: str,
    length: str,
    tpdu: str,
    bitmap: str,
    faults: tuple[str, ...],
    event_period: float,
) -> None:
    """An ISO 8583 acquirer host simulator deciding by the sandbox's test cards, with its own ledger."""
    from tessera.acquirer_sim import run
    from tessera.acquirer_sim.faults import parse_flag
    from tessera.processors.iso8583.spec import Framing

    logs.configure("INFO", "text")
    try:
        framing = Framing.from_options({"header": header, "length": length, "tpdu": tpdu, "bitmap": bitmap})
        parsed = [parse_flag(f) for f in faults]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    asyncio.run(
        run(
            host=host,
            port=port,
            ledger=ledger,
            framing=framing,
            faults=parsed,
            control_port=control_port,
            settlement=settlement or ledger.with_suffix(ledger.suffix + ".settlement"),
            event_period=event_period,
        )
    )
