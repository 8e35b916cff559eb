"""The velocity counters as a process last committed them (core.risk.counters): the check before 3-D Secure
reads them instead of the store, refuses an attempt that a counter seen at its limit would refuse, and never
refuses one the store would let through; the store still keeps the limit for counts made elsewhere."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tessera.core.errors import ErrorCode
from tessera.core.merchants import Merchant
from tessera.core.payments import service
from tessera.core.payments.model import Payment, PaymentStatus
from tessera.core.payments.settle import PaymentDeps
from tessera.core.risk import service as risk
from tessera.core.risk.counters import CounterCache
from tessera.core.risk.model import AttemptFacts
from tessera.storage.engine import _numbered
from tests.unit.test_payment_service import NOW, World, _create
from tests.unit.test_payment_service import world as world  # the fixture
from tests.unit.test_risk_list_cache import CountingUow


def test_a_counter_keeps_its_largest_committed_total_and_the_least_recently_counted_is_forgotten() -> None:
    cache = CounterCache(max_counters=2)
    a, b, c = ("rrl_1", "k", 60), ("rrl_2", "k", 60), ("rrl_3", "k", 60)
    cache.learn([(a, 3)])
    cache.learn([(a, 2)])  # an older transaction committing after a newer one: the counter never shrinks
    assert cache.total(a) == 3
    cache.learn([(b, 1)])
    cache.learn([(a, 4)])
    cache.learn([(c, 1)])  # b was counted least recently
    assert (cache.total(a), cache.total(b), cache.total(c), len(cache)) == (4, None, 1, 2)


EMAIL = "shopper@example.com"
WINDOW = 30 * 86_400  # long, so that no window ends between the payments and the screening in a test


async def _merchant(world: World) -> Merchant:
    async with world.uow(read_only=True) as tx:
        found = await tx.merchants.get("mer_1")
    assert found is not None
    return found


def _facts() -> AttemptFacts:
    return AttemptFacts("mer_1", "test", 1000, "INR", "fp", "42424242", "visa", email=EMAIL)


async def _pay(deps: PaymentDeps) -> Payment:
    return await service.create_payment(_create(customer={"email": EMAIL}), deps=deps)


async def test_a_counter_seen_at_its_limit_refuses_the_next_attempt_before_3ds_without_a_read(world: World) -> None:
    rule = await risk.add_rule(risk.NewRule("mer_1", "test", "email", "count", 2, WINDOW), uow=world.uow, now=NOW)
    for _ in range(2):
        assert (await _pay(world.deps)).status is PaymentStatus.CAPTURED
    counting, merchant = CountingUow(), await _merchant(world)
    now = datetime.now(UTC)
    screening = await risk.screen(_facts(), merchant, uow=counting, now=now, counters=world.deps.counters)
    assert screening.decision is not None and screening.decision.rule_id == rule.id
    assert counting.opened == 0  # decided from what this process committed
    # A process that has not seen the counter lets the attempt through the check, read nothing either, and
    # the store refuses it when it is counted.
    unseen = await risk.screen(_facts(), merchant, uow=counting, now=now, counters=CounterCache())
    assert unseen.decision is None and counting.opened == 0
    async with world.uow() as tx:
        refused = await unseen.record(tx, now)
    assert refused is not None and refused.rule_id == rule.id


async def test_an_attempt_counted_in_another_process_passes_the_check_and_the_store_refuses_it(world: World) -> None:
    rule = await risk.add_rule(risk.NewRule("mer_1", "test", "email", "count", 1, WINDOW), uow=world.uow, now=NOW)
    other = replace(world.deps, counters=CounterCache())  # another process: the same store, its own memory
    assert (await _pay(other)).status is PaymentStatus.CAPTURED
    assert len(world.deps.counters) == 0
    refused = await _pay(world.deps)
    assert refused.error_code is ErrorCode.RISK_DECLINED and refused.risk and refused.risk["rule_id"] == rule.id
    assert len(world.processor.requests("authorize")) == 1  # the other process's payment only
    # The refusal taught this process that the counter is full: the next attempt is refused by the check.
    screening = await risk.screen(
        _facts(), await _merchant(world), uow=CountingUow(), now=datetime.now(UTC), counters=world.deps.counters
    )
    assert screening.decision is not None and screening.decision.rule_id == rule.id


def test_named_parameters_become_postgresqls_numbered_ones_and_casts_are_left_alone() -> None:
    sql, names = _numbered("SELECT :a, CAST(:b AS BIGINT), x::text, :a WHERE y = :c_2")
    assert sql == "SELECT $1, CAST($2 AS BIGINT), x::text, $1 WHERE y = $3"
    assert names == ("a", "b", "c_2")
