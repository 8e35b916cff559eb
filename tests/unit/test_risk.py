"""The risk controls' rules, and the payments service screening attempts with them, on in-memory fakes:
what a blocklist entry matches, how velocity counting admits and refuses, fees and their rounding, who the
caller is behind proxies, and that a refused attempt never reaches the processor."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from tessera.core.errors import ErrorCode, PaymentError, PermissionDeniedError, ValidationError
from tessera.core.payments import service
from tessera.core.payments.commands import CardSource, ConfirmPayment
from tessera.core.payments.model import PaymentStatus
from tessera.core.risk import service as risk
from tessera.core.risk.caller import caller_address, check_allowlist, check_shopper_ip, parse_networks, set_caller
from tessera.core.risk.lists import ListCache
from tessera.core.risk.model import (
    AttemptFacts,
    BlockType,
    Charge,
    RiskSummary,
    VelocityKey,
    VelocityMetric,
    VelocityRule,
    charge_for,
    match_key,
    networks_containing,
    normalise_email,
    normalise_network,
    parse_charge,
)
from tests.unit.test_payment_service import MERCHANT, NOW, World, _card, _create
from tests.unit.test_payment_service import world as world  # the fixture

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8"], field="trusted_proxies")


# ------------------------------------------------------------------------------ values


def test_an_address_matches_every_network_that_contains_it_and_no_other() -> None:
    nets = networks_containing(ipaddress.ip_address("198.51.100.77"))
    assert len(nets) == 33 and "198.51.100.0/24" in nets and "0.0.0.0/0" in nets and "198.51.100.77/32" in nets
    assert "198.51.101.0/24" not in nets
    assert len(networks_containing(ipaddress.ip_address("2001:db8::1"))) == 129
    assert normalise_network("198.51.100.9/24") == "198.51.100.0/24"
    assert normalise_network("2001:DB8::1") == "2001:db8::1/128"


def test_an_attempts_keys_cover_its_card_both_bins_customer_and_an_ipv4_mapped_address() -> None:
    facts = AttemptFacts(
        "mer_1", "test", 100, "INR", "fp", "55555555", "mastercard", "a@b.co", "cus_1", "::ffff:1.2.3.4"
    )
    keys = facts.block_keys()
    assert {"card:fp", "bin:555555", "bin:55555555", "email:a@b.co", "customer:cus_1", "ip:1.2.3.0/24"} <= set(keys)


def test_an_email_is_matched_without_case_or_white_space() -> None:
    assert normalise_email("  Fraud@Example.COM ") == "fraud@example.com"
    with pytest.raises(ValidationError):
        normalise_email("no-at-sign")


def test_the_most_specific_charge_wins_and_a_fee_rounds_half_up() -> None:
    rows = [
        Charge("*", "*", 300, 0),
        Charge("visa", "*", 200, 0),
        Charge("*", "EUR", 150, 0),
        Charge("visa", "EUR", 100, 7),
    ]
    assert charge_for(rows, "visa", "EUR") == rows[3]
    assert charge_for(rows, "visa", "INR") == rows[1]
    assert charge_for(rows, "amex", "EUR") == rows[2]
    assert charge_for(rows, "amex", "INR") == rows[0]
    assert charge_for([], "visa", "EUR") is None
    assert Charge("*", "*", 250, 0).fee(1002) == 25 and Charge("*", "*", 250, 0).fee(1010) == 25  # 25.05 -> 25
    assert Charge("*", "*", 250, 0).fee(1020) == 26  # 25.5 -> 26 (half up)
    assert parse_charge("VISA:eur:290:25") == Charge("visa", "EUR", 290, 25)
    with pytest.raises(ValidationError):
        parse_charge("visa:EUR:10001:0")


def test_only_a_trusted_proxy_has_its_forwarded_for_believed_rightmost_untrusted_first() -> None:
    assert caller_address("203.0.113.5", "198.51.100.1", PROXIES) == "203.0.113.5"  # not a proxy: ignored
    assert caller_address("10.1.1.1", "192.0.2.9, 198.51.100.1, 10.2.2.2", PROXIES) == "198.51.100.1"
    assert caller_address("10.1.1.1", "10.3.3.3, 10.2.2.2", PROXIES) == "10.3.3.3"  # all hops trusted
    assert caller_address("10.1.1.1", "not-an-ip", PROXIES) == "10.1.1.1"
    assert caller_address("10.1.1.1", "198.51.100.1", []) == "10.1.1.1"  # no proxies configured


def test_the_allowlist_refuses_other_addresses_and_an_empty_one_refuses_none() -> None:
    check_allowlist([], "192.0.2.1")
    check_allowlist(["192.0.2.0/24"], "192.0.2.200")
    check_allowlist(["2001:db8::/32"], "2001:db8::5")
    with pytest.raises(PermissionDeniedError) as refused:
        check_allowlist(["192.0.2.0/24"], "198.51.100.1")
    assert refused.value.code is ErrorCode.IP_NOT_ALLOWED
    with pytest.raises(PermissionDeniedError):
        check_allowlist(["192.0.2.0/24"], None)


def test_a_shopper_ip_equal_to_a_non_loopback_caller_is_refused() -> None:
    check_shopper_ip("127.0.0.1", "127.0.0.1")  # one machine: exempt
    check_shopper_ip("203.0.113.7", "198.51.100.1")
    check_shopper_ip(None, "198.51.100.1")
    with pytest.raises(ValidationError) as refused:
        check_shopper_ip("203.0.113.7", "203.0.113.7")
    assert refused.value.code is ErrorCode.SHOPPER_IP_IS_CALLER and refused.value.field == "browser.ip"


# ------------------------------------------------------------------------------ screening in the service


async def _block(world: World, kind: str, value: str) -> str:
    entry, created = await risk.add_entry(
        "mer_1", "test", kind, value, uow=world.uow, cipher=world.deps.cipher, now=NOW
    )
    assert created
    return entry.id


async def test_a_blocked_card_fails_the_payment_without_calling_the_processor(world: World) -> None:
    entry = await _block(world, "card", "4242424242424242")
    paid = await service.create_payment(_create(), deps=world.deps)
    assert paid.status is PaymentStatus.FAILED and paid.error_code is ErrorCode.CARD_BLOCKED
    assert paid.risk is not None and paid.risk["rule_id"] == entry and paid.operations == []
    assert world.processor.requests("authorize") == []
    assert (await world.stored(paid.id)).attempts[0].risk == paid.risk
    assert [e.type for e in world.uow.store.events if e.payment_id == paid.id] == ["payment.failed"]


async def test_a_listed_value_is_returned_instead_of_listed_twice(world: World) -> None:
    first, _ = await risk.add_entry("mer_1", "test", "bin", "424242", uow=world.uow, cipher=world.deps.cipher, now=NOW)
    again, created = await risk.add_entry(
        "mer_1", "test", "bin", " 424242 ", uow=world.uow, cipher=world.deps.cipher, now=NOW
    )
    assert not created and again.id == first.id and again.match_key == match_key(BlockType.BIN, "424242")


async def test_a_velocity_rule_counts_attempts_and_a_refused_one_uses_no_other_rules_budget(world: World) -> None:
    loose = await risk.add_rule(risk.NewRule("mer_1", "test", "ip", "count", 10, 60), uow=world.uow, now=NOW)
    tight = await risk.add_rule(risk.NewRule("mer_1", "test", "card", "count", 1, 60), uow=world.uow, now=NOW)
    assert (await service.create_payment(_create(), deps=world.deps)).status is PaymentStatus.CAPTURED
    refused = await service.create_payment(_create(), deps=world.deps)
    assert refused.error_code is ErrorCode.RISK_DECLINED and refused.risk and refused.risk["rule_id"] == tight.id
    ip_counts = [n for (rule, _k, _w), n in world.uow.store.risk_counters.items() if rule == loose.id]
    assert ip_counts == [1]  # the refused attempt's count on the loose rule was taken back


async def test_an_amount_rule_counts_only_its_currency(world: World) -> None:
    await risk.add_rule(risk.NewRule("mer_1", "test", "card", "amount", 1500, 60, "inr"), uow=world.uow, now=NOW)
    assert (await service.create_payment(_create(amount=1000), deps=world.deps)).status is PaymentStatus.CAPTURED
    assert (await service.create_payment(_create(amount=600), deps=world.deps)).error_code is ErrorCode.RISK_DECLINED
    assert (await service.create_payment(_create(amount=500), deps=world.deps)).status is PaymentStatus.CAPTURED
    eur = await service.create_payment(_create(amount=9000, currency="EUR"), deps=world.deps)
    assert eur.status is PaymentStatus.CAPTURED


async def test_a_rule_is_checked_before_it_is_kept(world: World) -> None:
    for bad in (
        risk.NewRule("mer_1", "test", "card", "amount", 10, 60),  # no currency
        risk.NewRule("mer_1", "test", "card", "count", 10, 60, "EUR"),
        risk.NewRule("mer_1", "test", "card", "count", 0, 60),
        risk.NewRule("mer_1", "test", "phone", "count", 1, 60),
    ):
        with pytest.raises(ValidationError):
            await risk.add_rule(bad, uow=world.uow, now=NOW)


async def test_a_blocked_attempt_on_an_intent_returns_it_for_another_card(world: World) -> None:
    await _block(world, "customer", "cus_9")
    intent = await service.create_payment(_create(source=None, browser=None, customer={"id": "cus_9"}), deps=world.deps)
    confirm = ConfirmPayment(merchant_id="mer_1", mode="test", payment_id=intent.id, source=CardSource(_card()))
    confirm = replace(confirm, browser=dict(BROWSER_IP))
    first = await service.confirm_payment(confirm, deps=world.deps)
    assert first.status is PaymentStatus.REQUIRES_PAYMENT_METHOD and first.error_code is ErrorCode.CUSTOMER_BLOCKED
    assert first.attempts_left == 2 and world.processor.requests("authorize") == []


BROWSER_IP = {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"}


async def test_live_needs_a_charge_and_test_falls_back_on_the_default(world: World) -> None:
    test = await service.create_payment(_create(amount=1000), deps=world.deps)
    assert test.fee == 25
    with pytest.raises(PaymentError) as refused:
        await service.create_payment(_create(mode="live"), deps=world.deps)
    assert refused.value.code is ErrorCode.CHARGES_INCOMPLETE
    assert len(world.processor.requests("authorize")) == 1  # the test payment's only
    async with world.uow() as tx:
        await tx.merchants.save_settings(replace(MERCHANT, charges=[Charge("visa", "INR", 100, 3)]))
        await tx.commit()
    assert (await service.create_payment(_create(mode="live", amount=1000), deps=world.deps)).fee == 13


async def test_the_shopper_ip_rule_uses_the_requests_caller(world: World) -> None:
    set_caller("203.0.113.7")
    try:
        with pytest.raises(ValidationError) as refused:
            await service.create_payment(_create(), deps=world.deps)
        assert refused.value.code is ErrorCode.SHOPPER_IP_IS_CALLER
    finally:
        set_caller(None)
    assert world.processor.requests("authorize") == []


async def test_counting_that_passes_one_limit_takes_back_what_it_counted_on_the_others(world: World) -> None:
    loose = await risk.add_rule(risk.NewRule("mer_1", "test", "ip", "count", 10, 60), uow=world.uow, now=NOW)
    tight = await risk.add_rule(risk.NewRule("mer_1", "test", "card", "count", 1, 60), uow=world.uow, now=NOW)
    facts = AttemptFacts("mer_1", "test", 100, "INR", "fp", "42424242", "visa", ip="203.0.113.7")
    epoch = int(NOW.timestamp())
    for expected in (None, tight.id):  # the second attempt finds the card's counter full when it is recorded
        screening = risk.Screening(facts, None, [loose, tight], epoch)
        async with world.uow() as tx:
            decision = await screening.record(tx, NOW)
            await tx.commit()
        assert (decision.rule_id if decision else None) == expected
    totals = {rule: n for (rule, _key, _start), n in world.uow.store.risk_counters.items()}
    assert totals == {loose.id: 1, tight.id: 1}


async def test_a_list_too_long_to_hold_in_memory_is_looked_up_per_attempt(world: World) -> None:
    world.deps = replace(world.deps, lists=ListCache(max_entries=0))  # any list is too long: read per attempt
    entry = await _block(world, "card", "4242424242424242")
    paid = await service.create_payment(_create(), deps=world.deps)
    assert paid.error_code is ErrorCode.CARD_BLOCKED and paid.risk is not None and paid.risk["rule_id"] == entry


def test_summaries_parsed_from_the_same_stored_row_share_their_rules_but_not_their_lists() -> None:
    """Rules are parsed once per process and shared (they are frozen); each parse is a summary of its own, so
    a rule added to one merchant's copy (as `add_rule` does) is not in the next request's."""
    rule = VelocityRule("rrl_1", "mer_1", "test", VelocityKey.EMAIL, VelocityMetric.AMOUNT, 500, 60, NOW, "INR")
    stored = RiskSummary(3, [rule], {24: 1}, 7).as_dict()
    first, second = RiskSummary.from_dict(stored), RiskSummary.from_dict(stored)
    assert first == second == RiskSummary(3, [rule], {24: 1}, 7)
    assert first.rules[0] is second.rules[0]
    first.rules.append(replace(rule, id="rrl_2"))
    first.ip_prefixes[32] = 1
    assert RiskSummary.from_dict(stored) == RiskSummary(3, [rule], {24: 1}, 7)
    changed = dict(stored, rules=[rule.as_dict() | {"limit": 600}])
    assert RiskSummary.from_dict(changed).rules[0].limit == 600
