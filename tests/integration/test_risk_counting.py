"""One statement counts an attempt against all its velocity rules (SQLite and PostgreSQL): each counter moves
only while it stays within its own rule's limit, and the rules whose counter moved are what comes back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from tessera.bootstrap import Container
from tessera.core.risk.model import AttemptFacts, Count, VelocityKey, VelocityMetric, VelocityRule
from tessera.core.risk.service import Screening
from tessera.storage.risk import SqlRiskRepository
from tests.conftest import Merchant


async def _totals(container: Container) -> dict[str, int]:
    async with container.db.connect() as conn:
        rows = await conn.execute(text("SELECT rule_id, total FROM risk_counters"))
        return {r.rule_id: int(r.total) for r in rows}


async def _count(container: Container, counts: list[Count]) -> dict[str, int]:
    async with container.uow() as tx:
        added = await tx.risk.count(counts)
        await tx.commit()
    return added


async def test_each_counter_moves_within_its_own_limit_and_the_moved_rules_come_back_with_their_totals(
    container: Container, merchant: Merchant
) -> None:
    tight, loose = Count("rrl_tight", "k" * 64, 60, 1, 2, 60), Count("rrl_loose", "k" * 64, 60, 400, 10_000, 60)
    assert await _count(container, [tight, loose]) == {"rrl_tight": 1, "rrl_loose": 400}  # both new
    assert await _count(container, [tight, loose]) == {"rrl_tight": 2, "rrl_loose": 800}
    assert await _totals(container) == {"rrl_tight": 2, "rrl_loose": 800}
    # The tight rule is at its limit: only the loose counter moves, and only it comes back.
    assert await _count(container, [tight, loose]) == {"rrl_loose": 1200}
    assert await _totals(container) == {"rrl_tight": 2, "rrl_loose": 1200}
    # Another window of the same rule and key is another counter.
    assert await _count(container, [tight._replace(window_start=120)]) == {"rrl_tight": 1}
    assert await _count(container, [loose._replace(increment=9_000)]) == {}  # 1,200 + 9,000 > 10,000


async def test_a_refused_attempt_gives_back_what_it_counted_on_the_other_rules(
    container: Container, merchant: Merchant
) -> None:
    """The core's record step: a rule that refuses in the recording transaction (a concurrent attempt took
    the last of its limit after this one's pre-check) leaves the other rules' counters as they were."""
    now = datetime.now(UTC)
    rules = [
        VelocityRule("rrl_a", merchant.id, "test", VelocityKey.EMAIL, VelocityMetric.COUNT, 100, 3600, now),
        VelocityRule("rrl_b", merchant.id, "test", VelocityKey.EMAIL, VelocityMetric.COUNT, 1, 3600, now),
    ]
    facts = AttemptFacts(merchant.id, "test", 1000, "INR", "f" * 64, "424242", "visa", email="s@example.com")
    first, second = (Screening(facts, None, rules, int(now.timestamp())) for _ in range(2))
    async with container.uow() as tx:
        assert await first.record(tx, now) is None
        await tx.commit()
    async with container.uow() as tx:
        refused = await second.record(tx, now)
        await tx.commit()
    assert refused is not None and refused.rule_id == "rrl_b"
    assert await _totals(container) == {"rrl_a": 1, "rrl_b": 1}


async def test_a_count_run_by_the_driver_is_part_of_its_transaction_and_rolls_back_with_it(
    container: Container, merchant: Merchant
) -> None:
    count = Count("rrl_tx", "k" * 64, 60, 1, 5, 60)
    async with container.uow() as tx:
        assert await tx.risk.count([count]) == {"rrl_tx": 1}  # the transaction's first statement
        # no commit: leaving the unit of work rolls it back
    assert await _totals(container) == {}
    assert await _count(container, [count]) == {"rrl_tx": 1}


async def test_a_count_run_by_the_driver_after_other_statements_sees_and_shares_their_transaction(
    container: Container, merchant: Merchant
) -> None:
    """The driver's cursor joins the transaction SQLAlchemy already began: it sees that transaction's own
    uncommitted counter, and rolls back with it."""
    count = Count("rrl_tx", "k" * 64, 60, 1, 5, 60)
    async with container.db.connect(write=True) as conn:
        await conn.execute(
            text(
                'INSERT INTO risk_counters (rule_id, "key", window_start, total, ends_at) '
                "VALUES ('rrl_tx', :key, 60, 4, 120)"
            ),
            {"key": "k" * 64},
        )
        counters = SqlRiskRepository(conn, sqlite=container.db.sqlite)
        assert await counters.count([count]) == {"rrl_tx": 5}
        assert await counters.count([count]) == {}  # 5 + 1 would pass the limit
    assert await _totals(container) == {}
