"""The sandbox directory server hands the ACS its challenges through the `ChallengeStore` port, and
the ACS's code reaches no storage but through that port."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import tessera
from tessera.core.clock import utcnow
from tessera.core.money import numeric_code
from tessera.core.threeds.model import AuthenticationRequest, BrowserInfo, build_areq, new_trans_id
from tessera.sandbox.directory import CHALLENGE_TTL, SandboxDirectoryServer
from tessera.sandbox.ports import ChallengeState, ChallengeStore
from tests.fakes import InMemoryChallengeStore

CHALLENGE_CARD = "4000002500003155"
BROWSER = BrowserInfo(
    accept_header="text/html",
    user_agent="Mozilla/5.0 (X11; Linux x86_64)",
    ip="203.0.113.7",
    language="en-IN",
    color_depth=24,
    screen_height=900,
    screen_width=1440,
    timezone_offset=-330,
    java_enabled=False,
    javascript_enabled=True,
)


async def test_a_challenge_card_leaves_a_waiting_challenge_with_only_a_masked_card() -> None:
    store = InMemoryChallengeStore()
    port: ChallengeStore = store
    ds = SandboxDirectoryServer(acs_url="http://x/sandbox/acs/challenge", key=b"k" * 32, challenges=port)
    request = AuthenticationRequest(
        CHALLENGE_CARD, 12, 2030, 123450, numeric_code("INR"), 2, "Test Shop", "http://x/notify", BROWSER
    )
    before = utcnow()

    ares = await ds.authenticate(build_areq(request, trans_id=new_trans_id(), now=before))

    assert ares["transStatus"] == "C"
    challenge = store.challenges[ares["acsTransID"]]
    assert challenge.state is ChallengeState.WAITING and challenge.form_token_hash is None
    assert (challenge.amount, challenge.currency_numeric, challenge.exponent) == (123450, "356", 2)
    assert CHALLENGE_CARD not in challenge.masked_card and challenge.masked_card.endswith("3155")
    assert before + CHALLENGE_TTL - timedelta(seconds=5) <= challenge.expires_at <= utcnow() + CHALLENGE_TTL


def test_the_sandbox_acs_reaches_storage_only_through_its_port() -> None:
    sandbox = Path(tessera.__file__).parent / "sandbox"
    for path in sandbox.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("tessera.storage", "sqlalchemy")), (path.name, node.module)
