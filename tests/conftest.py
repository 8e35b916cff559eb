"""Shared fixtures: real databases (a SQLite file and a throwaway PostgreSQL cluster), the app over
real HTTP semantics in-process, and merchants to call it with."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from tessera.app import create_app
from tessera.bootstrap import Container, build
from tessera.core.merchants import Credentials, UpdateMerchant, create_merchant, update_merchant
from tessera.core.risk.model import Charge
from tessera.logs import CardDataFilter, JsonFormatter
from tessera.settings import Settings
from tessera.storage.migrate import upgrade
from tests import pg

# Marked, so that `-m "not postgres"` runs everything on SQLite alone, without starting a cluster.
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", autouse=True)
def session_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every in-process log record of the session, written as a deployment writes its log (the card-data
    filter and the JSON format of `tessera.logs`), so the card-number scan that ends the session reads
    it as it reads the e2e servers' logs. DEBUG: what a debugging operator would turn on, too."""
    path = tmp_path_factory.getbasetemp() / "session.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(CardDataFilter())
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    tessera_logger = logging.getLogger("tessera")
    previous = tessera_logger.level
    tessera_logger.addHandler(handler)
    tessera_logger.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        tessera_logger.removeHandler(handler)
        tessera_logger.setLevel(previous)
        handler.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pg.Cluster]:
    cluster = pg.start()
    try:
        yield cluster
    finally:
        pg.stop(cluster)


def pg_execute(cluster: pg.Cluster, statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(cluster.url.replace("postgresql://", "postgres://"))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def database_for(request: pytest.FixtureRequest, prefix: str) -> str | None:
    """For a fixture parametrized by store: None for SQLite (a server process's own file, under its
    working folder), or a new database named `<prefix>_...` on the session's PostgreSQL cluster (which
    the card-number scan searches)."""
    if request.param == "sqlite":
        return None
    cluster: pg.Cluster = request.getfixturevalue("pg_cluster")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    pg_execute(cluster, f"CREATE DATABASE {name}")
    return cluster.database_url(name)


@pytest.fixture(scope="session")
def pg_template(pg_cluster: pg.Cluster) -> str:
    pg_execute(pg_cluster, "CREATE DATABASE tessera_template")
    upgrade(pg_cluster.database_url("tessera_template"))
    return "tessera_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@dataclass
class Backend:
    name: str
    url: str
    sqlite_path: Path | None = None
    pg_database: str | None = None


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A fresh, migrated database per test: a copied SQLite file, or a PostgreSQL database made
    from a migrated template."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "tessera.db"
        shutil.copy(template, path)
        return Backend("sqlite", f"sqlite:///{path}", sqlite_path=path)
    cluster: pg.Cluster = request.getfixturevalue("pg_cluster")
    template_name: str = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_execute(cluster, f"CREATE DATABASE {name} TEMPLATE {template_name}")
    return Backend("postgres", cluster.database_url(name), pg_database=name)


def make_settings(backend: Backend, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "vault_kek": base64.b64encode(secrets.token_bytes(32)).decode(),
        "vault_fingerprint_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "database_url": backend.url,
        "data_dir": tmp_path / "data",
        "processor_timeout_seconds": 0.3,
        "live_processor": "sandbox",
        "log_format": "json",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def container(backend: Backend, tmp_path: Path) -> AsyncIterator[Container]:
    c = build(make_settings(backend, tmp_path))
    await c.start()
    try:
        yield c
    finally:
        await c.close()


@dataclass
class Merchant:
    id: str
    test: Credentials
    live: Credentials


@pytest.fixture
async def merchant(container: Container) -> Merchant:
    made, creds = await create_merchant(
        "Test Shop", uow=container.uow, allowed_domains=["yoursite.com", "localhost"], modes=("test", "live")
    )
    # Live payments need the merchant's charges (core.risk.fee_for): the shared merchant charges nothing.
    await update_merchant(UpdateMerchant(made.id, charges=[Charge("*", "*", 0, 0)]), uow=container.uow)
    return Merchant(made.id, creds[0], creds[1])


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container.settings, container=container, embedded_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        yield http


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
