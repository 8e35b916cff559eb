"""Schemathesis over a real server's /openapi.json, one run per dialect with that dialect's credentials and
every check, on both databases: no request gets a 5xx, and the document says exactly what the server
accepts (0 schema violations either way). Requests refused for a reason no schema can hold (a card
number's check digit, an expiry before today, a host that does not resolve) are counted and published,
each reason listed in fuzz_hooks.BEYOND_SCHEMA."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests import pg
from tests.conftest import BACKENDS, pg_execute
from tests.e2e.server import Server
from tests.faults import fuzz
from tests.faults.conftest import Figure, scaled

# Every dialect, with the paths it owns and how its credentials travel. A new dialect adds a line here;
# `test_every_documented_path_belongs_to_a_fuzzed_dialect` fails until it does.
DIALECTS: dict[str, tuple[str, Callable[[dict[str, str]], dict[str, str]]]] = {
    "native": ("^/v1/", lambda c: {"Authorization": f"Bearer {c['secret_key']}"}),
    "eximpe": (
        "^/eximpe/",
        lambda c: {
            "X-Client-ID": c["client_id"],
            "X-Client-Secret": c["secret_key"],
            "X-Merchant-ID": c["merchant_id"],
        },
    ),
    "paysecure": ("^/paysecure/", lambda c: {"Authorization": f"Bearer {c['secret_key']}"}),
    # OPPWA's entityId travels in the form or the query: fuzz_hooks puts the merchant's in each well-formed one.
    "oppwa": ("^/oppwa/", lambda c: {"Authorization": f"Bearer {c['secret_key']}"}),
    # Not a dialect: the browser SDK's script (issue 14), which takes no key.
    "browser": ("^/js/", lambda c: {}),
}
# Paths no dialect owns: the document itself, health, and the shopper's and ACS's pages (browser forms,
# reached by unguessable ids, proven by the 3-D Secure browser tests).
UNFUZZED = re.compile(r"^/(openapi\.json|docs|redoc|readyz|healthz|metrics|payments/[^/]+/authenticate|3ds/|acs/)")

SEED = 20261128
# Issue 11 asks the soak for at least 50,000 requests (soak/run.py checks the total). The schemathesis
# client, not the server, is the bottleneck (a core each, the server near idle), and one client at 800
# examples an operation grew past 2.6 GB and 30 minutes; so the soak runs several seeded client processes
# (shards) of 200 examples an operation, two at a time (fuzz.run). Measured on 2 cores: about 46 requests
# a second for two native shards; a native shard of fresh cases sends some 5,000 requests. EximPe's order
# body is mostly conditionals, which the generator meets by drawing and discarding: past some 40 examples
# an operation its run slows to a crawl (200 did not end in 6 minutes), so its shards stay small.
MAX_EXAMPLES = {
    "native": scaled(8, 200),
    "eximpe": scaled(8, 40),
    "paysecure": scaled(8, 60),
    "oppwa": scaled(8, 60),
    "browser": scaled(8, 20),
}
SHARDS = {
    "native": scaled(1, 5),
    "eximpe": scaled(1, 3),
    "paysecure": scaled(1, 2),
    "oppwa": scaled(1, 2),
    "browser": 1,
}


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, artifacts: Path) -> Server:
    workdir = artifacts / f"fuzz-{request.param}-{uuid.uuid4().hex[:6]}"
    database_url = None
    if request.param == "postgres":
        cluster: pg.Cluster = request.getfixturevalue("pg_cluster")
        name = f"fuzz_{uuid.uuid4().hex[:10]}"
        pg_execute(cluster, f"CREATE DATABASE {name}")
        database_url = cluster.database_url(name)
    srv = Server(workdir, database_url=database_url, extra_env={"TESSERA_LOG_FORMAT": "json"})
    srv.start()
    request.addfinalizer(srv.stop)
    return srv


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_no_request_fails_and_the_document_says_what_the_server_accepts(
    server: Server,
    dialect: str,
    figure: Figure,
    pans_used: set[str],
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pans_used.update(("4242424242424242", "5506900480000008", "4895380110000003"))  # the document's examples
    path_regex, headers = DIALECTS[dialect]
    database = "PostgreSQL" if server.database_url else "SQLite"
    creds = server.credentials()
    if dialect == "oppwa":  # a merchant whose entity_id is known (the demo's file predates identities)
        made = server.tessera("merchant", "create", "--name", "Fuzzed", "--allow-domain", "example.com", "--json")
        creds = json.loads(made.stdout.splitlines()[0])
        monkeypatch.setenv("TESSERA_FUZZ_ENTITY_ID", creds["entity_id"])
    run = fuzz.run(
        server.base_url,
        fuzz.Dialect(dialect, path_regex, headers(creds)),
        max_examples=MAX_EXAMPLES[dialect],
        seed=SEED,
        shards=SHARDS[dialect],
    )
    beyond = ", ".join(f"{n} {why}" for why, n in sorted(run.beyond_schema.items(), key=lambda x: -x[1])) or "none"
    figure(
        f"Fuzzing, {dialect} dialect, {database}",
        tried=f"{run.cases:,} requests over {run.operations} operations, every schemathesis check, "
        f"{SHARDS[dialect]} client process{'es' if SHARDS[dialect] > 1 else ''} seeded from {SEED}",
        result=f"{run.server_errors} 5xx, {run.schema_violations} schema violations, {run.errors} generator errors; "
        f"refused for reasons no schema holds: {beyond}",
        requests=run.cases,
    )
    assert run.operations > 0
    assert (run.failures, run.errors) == ({}, 0), run.output


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_every_documented_path_belongs_to_a_fuzzed_dialect(server: Server) -> None:
    paths = httpx.get(f"{server.base_url}/openapi.json").json()["paths"]
    orphans = [p for p in paths if not UNFUZZED.match(p) and not any(re.match(r, p) for r, _ in DIALECTS.values())]
    assert orphans == []
