"""Every test card through Paysecure's S2S post (remembered, refunded, its callbacks delivered), then a
search of the logs, the raw database, every answer and every callback for full card numbers and CVVs:
none may be found."""

from __future__ import annotations

import io
from datetime import timedelta

from httpx import AsyncClient

from tessera.bootstrap import Container
from tessera.core.clock import utcnow
from tessera.processors.sandbox.cards import TEST_CARDS
from tests import pg
from tests.conftest import Backend, Merchant, auth
from tests.integration.paysecure.helpers import BASE, create, post_card, s2s
from tests.integration.test_card_data_never_leaks import (  # noqa: F401 - captured_logs is a fixture
    CVV3,
    CVV4,
    _all_stored_values,
    _cluster_of,
    _cvv_leaks,
    captured_logs,
)
from tests.receiver import Receiver


async def test_no_card_number_or_cvv_in_paysecure_answers_callbacks_logs_or_database(
    client: AsyncClient,
    merchant: Merchant,
    container: Container,
    backend: Backend,
    captured_logs: tuple[io.StringIO, io.StringIO],  # noqa: F811
) -> None:
    receiver = await Receiver().start()
    answers: list[str] = []
    key = auth(merchant.test.secret_key)
    try:
        for index, number in enumerate(TEST_CARDS):
            cvc = CVV4 if number.startswith(("34", "37")) else CVV3
            made = await create(
                client,
                merchant,
                success_callback=receiver.url,
                failure_callback=receiver.url,
                merchantRef=f"leak-{index}",
            )
            pid = made["purchaseId"]
            body = s2s(number, cvc=cvc, cardholder_name="Leak Test")
            for _ in range(2):  # the second is refused: its answer must not echo the card either
                answers.append((await post_card(client, merchant, pid, body)).text)
            answers.append((await client.get(f"{BASE}/payment/{pid}/")).text)
            answers.append((await client.get(f"{BASE}/purchases/{pid}/", headers=key)).text)
            answers.append((await client.get(f"{BASE}/purchases/{pid}/refund/", headers=key)).text)
            bad = s2s(number, cvc=cvc, expires="13/99")
            answers.append((await post_card(client, merchant, pid, bad)).text)
        answers.append(
            (await client.get(f"{BASE}/listSavedCards", params={"customerId": "user@example.com"}, headers=key)).text
        )
        for _ in range(3):
            await container.deliveries.run_once(utcnow() + timedelta(seconds=1))
    finally:
        await receiver.stop()
    callbacks = [r.body.decode() for r in receiver.received]
    assert callbacks and any('"PAID"' in c for c in callbacks)
    raw, production = (s.getvalue() for s in captured_logs)
    assert "authorize outcome" in raw

    if backend.sqlite_path is not None:
        await container.db.dispose()
        stored = b"".join(p.read_bytes() for p in backend.sqlite_path.parent.glob(backend.sqlite_path.name + "*"))
    else:
        assert backend.pg_database is not None
        stored = pg.pg_dump(_cluster_of(backend), backend.pg_database)
    values = await _all_stored_values(container)
    texts = (
        ("raw logs", raw),
        ("logs", production),
        ("answers", "\n".join(answers)),
        ("callbacks", "\n".join(callbacks)),
    )
    for number in TEST_CARDS:
        for where, text in texts:
            assert number not in text, f"{number[:6]}… found in {where}"
        assert number.encode() not in stored, f"{number[:6]}… found in the database"
    for _where, text in texts:
        assert not _cvv_leaks(text)
    assert CVV3 not in values and CVV4 not in values
