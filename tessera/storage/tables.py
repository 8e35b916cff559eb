"""The schema, as SQLAlchemy Core tables in one MetaData; Alembic migrations are written against it.

Every table holding merchant data carries `merchant_id` (the natural shard key) and `mode`, so a test
key and a live key can never read each other's rows. No column holds a full card number or a CVV in
the clear: card data lives only in `*_ciphertext` columns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on PostgreSQL (timestamptz) and SQLite (text) alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        moment: datetime = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


Timestamp = UtcDateTime

merchants = Table(
    "merchants",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("allowed_domains", JSON, nullable=False),
    Column("webhook_secret", String(100)),
    Column("threeds_policy", String(20), nullable=False, server_default="auto"),
    Column("attempt_budget", Integer, nullable=False, server_default="3"),
    Column("allowed_ips", JSON),  # {mode: [CIDR, ...]}: the API IP allowlist
    Column("charges", JSON),  # [{brand, currency, percent_bp, fixed}]: the merchant's fees
    Column("risk_summary", JSON),  # {mode: {entries, rules, ip_prefixes}}: what core.risk must look up
    Column("created_at", Timestamp(), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("merchant_id", String(40), ForeignKey("merchants.id"), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("client_id", String(60), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    Column("revoked_at", Timestamp),
    Column("public_value", String(80)),  # a publishable key whole (public by design); never a secret key
    Index("ix_api_keys_client_id", "client_id"),
    Index("ix_api_keys_merchant", "merchant_id"),
)

# Per-merchant, per-mode identities a dialect registers (core.identities): Paysecure's brand_id and
# signing key pair, OPPWA's entity_id. The secret is sealed with the vault's keys.
merchant_identities = Table(
    "merchant_identities",
    metadata,
    Column("merchant_id", String(40), ForeignKey("merchants.id"), primary_key=True),
    Column("mode", String(4), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("public_id", String(100), nullable=False),
    Column("public_data", Text),
    Column("sealed_secret", LargeBinary),
    Column("created_at", Timestamp(), nullable=False),
    Index("ux_merchant_identities_public_id", "kind", "public_id", unique=True),
)

card_tokens = Table(
    "card_tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("merchant_id", String(40), ForeignKey("merchants.id"), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("pan_ciphertext", LargeBinary, nullable=False),
    Column("cvv_ciphertext", LargeBinary),
    Column("bin", String(8), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("brand", String(20), nullable=False),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False),
    Column("holder_name", String(200)),
    Column("created_at", Timestamp(), nullable=False),
    Column("expires_at", Timestamp(), nullable=False),
    Column("used_at", Timestamp),
    Column("payment_id", String(40)),
    Column("key_version", Integer, nullable=False, server_default="1"),
    Index("ix_card_tokens_expiry", "expires_at"),
    Index("ix_card_tokens_key_version", "key_version"),
)

vault_keys = Table(
    "vault_keys",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("kek_version", Integer, nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("created_at", Timestamp(), nullable=False),
)

cards = Table(
    "cards",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("card_token", String(40), nullable=False, unique=True),
    Column("merchant_id", String(40), ForeignKey("merchants.id"), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("identifier", String(200), nullable=False),
    Column("brand", String(20), nullable=False),
    Column("card_type", String(10)),
    Column("bin", String(8), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False),
    Column("holder_name", String(200)),
    Column("nickname", String(200)),
    Column("label", String(200), nullable=False),
    Column("pan_ciphertext", LargeBinary),  # erased when the card is deleted
    Column("key_version", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("network_token", String(19), nullable=False),
    Column("consent_at", Timestamp(), nullable=False),
    Column("consent_ip", String(45)),
    Column("consent_credential", String(60), nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    Column("deleted_at", Timestamp),
    Index("ix_cards_owner", "merchant_id", "mode", "identifier", "status"),
    Index("ix_cards_fingerprint", "merchant_id", "mode", "identifier", "fingerprint"),
    Index("ix_cards_key_version", "key_version"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("merchant_id", String(40), ForeignKey("merchants.id"), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("status", String(24), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("capture_method", String(12), nullable=False),
    Column("amount_authorized", BigInteger, nullable=False, server_default="0"),
    Column("amount_captured", BigInteger, nullable=False, server_default="0"),
    Column("amount_refunded", BigInteger, nullable=False, server_default="0"),
    Column("amount_charged_back", BigInteger, nullable=False, server_default="0"),
    # The card of the last attempt; none while an intent waits for its first.
    Column("card_bin", String(8)),
    Column("card_last4", String(4)),
    Column("card_brand", String(20)),
    Column("card_exp_month", Integer),
    Column("card_exp_year", Integer),
    Column("card_holder_name", String(200)),
    Column("processor", String(40), nullable=False),
    Column("processor_ref", String(80)),
    Column("auth_code", String(12)),
    Column("retrieval_ref", String(24)),
    Column("reference", String(200)),
    Column("description", Text),
    Column("return_url", Text),
    Column("customer", JSON),
    Column("customer_email", String(254)),  # the customer's email, lower-cased: the dashboard's filter
    Column("browser", JSON),
    Column("metadata", JSON),
    Column("error_code", String(40)),
    Column("error_message", Text),
    Column("next_action", JSON),
    Column("original_payment_id", String(40)),
    Column("card_token", String(40)),
    Column("auth_status", String(1)),
    Column("auth_eci", String(2)),
    Column("auth_version", String(8)),
    Column("auth_liability_shift", Boolean),
    # Which dialect made it, and that dialect's own words (opaque to the core).
    Column("channel", String(20), nullable=False, server_default="native"),
    Column("channel_data", JSON),
    # A reference unique per merchant and mode, so a repeat can never charge twice.
    Column("unique_reference", String(200)),
    Column("card_to_save", JSON),  # a card waiting to be saved after a challenge
    Column("initiator", String(12), nullable=False, server_default="cardholder"),
    Column("network_transaction_id", String(40)),
    Column("attempt_budget", Integer, nullable=False, server_default="1"),
    Column("attempts", JSON),
    Column("fee", BigInteger),  # the merchant's charge, minor units of the payment's currency
    Column("version", Integer, nullable=False, server_default="0"),
    Column("created_at", Timestamp(), nullable=False),
    Column("updated_at", Timestamp(), nullable=False),
    Index("ix_payments_list", "merchant_id", "mode", "id"),
    Index("ix_payments_reference", "merchant_id", "mode", "reference", "id"),  # id: migration 0017
    Index("ix_payments_processor_ref", "processor", "processor_ref", unique=True),
    Index("ix_payments_status_age", "status", "created_at"),
    Index("ix_payments_unique_reference", "merchant_id", "mode", "unique_reference", unique=True),
    # The dashboard's filters, each read newest first by id within a merchant and mode (migration 0015).
    Index("ix_payments_dash_status", "merchant_id", "mode", "status", "id"),
    Index("ix_payments_dash_last4", "merchant_id", "mode", "card_last4", "id"),
    Index("ix_payments_dash_channel", "merchant_id", "mode", "channel", "id"),
    Index("ix_payments_dash_amount", "merchant_id", "mode", "amount", "id"),
    Index("ix_payments_dash_created", "merchant_id", "mode", "created_at"),
    Index("ix_payments_dash_email", "merchant_id", "mode", "customer_email", "id"),  # migration 0017
)

operations = Table(
    "operations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("payment_id", String(40), ForeignKey("payments.id"), nullable=False),
    Column("merchant_id", String(40), nullable=False),
    Column("type", String(2), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),
    Column("error_code", String(40)),
    Column("processor_ref", String(80)),
    Column("response_code", String(12)),
    Column("auth_code", String(12)),
    Column("reason_code", String(40)),
    Column("processor_data", JSON),  # trace number, retrieval reference: committed before the call
    Column("created_at", Timestamp(), nullable=False),
    Column("updated_at", Timestamp(), nullable=False),
    Index("ix_operations_payment", "payment_id"),
    Index("ix_operations_open", "status", "updated_at"),
)

events = Table(
    "events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("merchant_id", String(40), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("type", String(60), nullable=False),
    Column("payment_id", String(40)),
    Column("data", JSON, nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    # Numbered per merchant and mode once committed (storage.events.number_events); NULL until then.
    Column("sequence", BigInteger),
    # Set when the delivery worker has made this event's webhook deliveries (the outbox's "sent" mark).
    Column("dispatched_at", Timestamp()),
    Index("ix_events_merchant", "merchant_id", "mode", "seq"),
    Index("ix_events_sequence", "merchant_id", "mode", "sequence", unique=True),
    Index("ix_events_payment", "payment_id"),  # a payment's page lists its events
    Index(  # the events still to be numbered, oldest first (migration 0019)
        "ix_events_unnumbered",
        "seq",
        sqlite_where=text("sequence IS NULL"),
        postgresql_where=text("sequence IS NULL"),
    ),
    Index(
        "ix_events_undispatched",
        "seq",
        sqlite_where=text("dispatched_at IS NULL"),
        postgresql_where=text("dispatched_at IS NULL"),
    ),
)

# The last event number given out per merchant and mode, by `storage.events.number_events` (one
# numberer at a time), after the events committed: the writing transactions never touch it.
event_sequences = Table(
    "event_sequences",
    metadata,
    Column("merchant_id", String(40), primary_key=True),
    Column("mode", String(4), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
)

# Where a merchant's events go. `kind` is `endpoint` (made through the API, any event types) or
# `callback` (the merchant's callback URL, kept only here, signed with its webhook secret). `format`
# names the dialect-provided webhook format each delivery is rendered in ("native" unless set).
# During a secret rotation `previous_secret` signs too, until `previous_secret_expires_at`.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("merchant_id", String(40), ForeignKey("merchants.id"), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("url", Text, nullable=False),
    Column("description", String(500)),
    Column("enabled_events", JSON, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("previous_secret", String(100)),
    Column("previous_secret_expires_at", Timestamp()),
    Column("status", String(12), nullable=False),
    Column("disabled_reason", String(200)),
    Column("format", String(40), nullable=False, server_default="native"),
    Column("created_at", Timestamp(), nullable=False),
    Column("updated_at", Timestamp(), nullable=False),
    Index("ix_webhook_endpoints_merchant", "merchant_id", "mode", "status"),
)

# One event for one endpoint. A pending delivery is due at `next_attempt_at`; a worker that claims it
# moves that time past its lease, so a worker killed mid-delivery only delays it.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("merchant_id", String(40), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("event_type", String(60), nullable=False),
    Column("payment_id", String(40)),
    Column("sequence", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Timestamp()),
    Column("last_attempt_at", Timestamp()),
    Column("last_status_code", Integer),
    # Set by the claim that holds the delivery (its lease is `next_attempt_at`); only that claim may record.
    Column("claim_token", String(40)),
    Column("created_at", Timestamp(), nullable=False),
    Column("completed_at", Timestamp()),
    Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
    Index("ix_webhook_deliveries_order", "endpoint_id", "payment_id", "sequence"),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "sequence"),
    Index("ix_webhook_deliveries_event", "endpoint_id", "event_id", unique=True),
    Index("ix_webhook_deliveries_payment", "payment_id"),  # a payment's page lists its webhooks
    Index(
        "ix_webhook_deliveries_finished",
        "completed_at",
        sqlite_where=text("status <> 'pending'"),
        postgresql_where=text("status <> 'pending'"),
    ),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("delivery_id", String(40), nullable=False),
    Column("merchant_id", String(40), nullable=False),
    Column("attempted_at", Timestamp(), nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Integer, nullable=False),
    Column("error", String(200)),
    Column("response_excerpt", String(300)),
    Index("ix_webhook_attempts_delivery", "delivery_id", "attempted_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("merchant_id", String(40), primary_key=True),
    Column("mode", String(4), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(12), nullable=False),
    Column("response_status", Integer),
    Column("response_body", LargeBinary),
    Column("created_at", Timestamp(), nullable=False),
    Column("expires_at", Timestamp(), nullable=False),
    # The lease of the request running under the key: a retry may take the key over once it has passed.
    # `claim` names the holder, so a request whose key was taken over can no longer write under it.
    Column("claim", String(32)),
    Column("locked_until", Timestamp(), nullable=False),
    # The recovery point: the payment the request created or changed, committed with that change.
    Column("resource_id", String(40)),
    Index("ix_idempotency_expiry", "expires_at"),
)

authentications = Table(
    "authentications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("payment_id", String(40), ForeignKey("payments.id"), nullable=False),
    Column("merchant_id", String(40), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("three_ds_server_trans_id", String(36), nullable=False, unique=True),
    Column("acs_trans_id", String(36)),
    Column("ds_trans_id", String(36)),
    Column("version", String(8), nullable=False),
    Column("trans_status", String(1)),
    Column("trans_status_reason", String(2)),
    Column("eci", String(2)),
    Column("cavv_ciphertext", LargeBinary),
    Column("acs_url", Text),
    Column("challenge", String(12), nullable=False),  # none, pending, completed, expired
    # The card waits here, encrypted, while the shopper answers the challenge; erased after.
    Column("card_ciphertext", LargeBinary),
    Column("cvv_ciphertext", LargeBinary),
    Column("key_version", Integer),
    Column("exp_month", Integer),
    Column("exp_year", Integer),
    Column("holder_name", String(200)),
    Column("policy", String(10), nullable=False),
    Column("expires_at", Timestamp(), nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    Column("updated_at", Timestamp(), nullable=False),
    Index("ix_authentications_payment", "payment_id"),
    Index("ix_authentications_challenge", "challenge", "expires_at"),
)

# The sandbox ACS's own state: a simulated issuer's system, kept here for convenience.
sandbox_challenges = Table(
    "sandbox_challenges",
    metadata,
    Column("acs_trans_id", String(36), primary_key=True),
    Column("three_ds_server_trans_id", String(36), nullable=False),
    Column("ds_trans_id", String(36), nullable=False),
    Column("message_version", String(8), nullable=False),
    Column("notification_url", Text, nullable=False),
    Column("merchant_name", String(40), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency_numeric", String(3), nullable=False),
    Column("exponent", Integer, nullable=False),
    Column("masked_card", String(24), nullable=False),
    Column("brand", String(20), nullable=False),
    Column("form_token_hash", String(64)),
    Column("state", String(12), nullable=False),  # waiting, answered, expired
    Column("expires_at", Timestamp(), nullable=False),
    Column("created_at", Timestamp(), nullable=False),
)


# ------------------------------------------------------------------------------ risk controls (core.risk)

# One row per listed value; `match_key` is `merchant_id:mode:type:normalised value` (a card's value: its keyed
# fingerprint), unique by itself, so an attempt's every possible match is one `match_key IN (...)` that only
# its own index answers (migration 0013 says why the merchant and mode are in it).
risk_blocklist = Table(
    "risk_blocklist",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("merchant_id", String(40), ForeignKey("merchants.id"), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("type", String(10), nullable=False),
    Column("value", String(260), nullable=False),  # as shown: a card masked, BIN + last 4
    Column("match_key", String(320), nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    Index("ix_risk_blocklist_match", "match_key", unique=True),
    Index("ix_risk_blocklist_list", "merchant_id", "mode", "id"),
)

risk_rules = Table(
    "risk_rules",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("merchant_id", String(40), ForeignKey("merchants.id"), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("key", String(10), nullable=False),
    Column("metric", String(10), nullable=False),
    Column("limit", BigInteger, nullable=False),
    Column("currency", String(3)),
    Column("window_seconds", Integer, nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    Index("ix_risk_rules_merchant", "merchant_id", "mode", "id"),
)

# A counter per (rule, key, fixed window): raised by one INSERT .. ON CONFLICT DO UPDATE .. WHERE that
# refuses to pass the rule's limit, atomic in every process. `key` is a SHA-256 of the counted value.
risk_counters = Table(
    "risk_counters",
    metadata,
    Column("rule_id", String(40), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("total", BigInteger, nullable=False),
    Column("ends_at", BigInteger, nullable=False),  # window_start + the rule's window: what the purge reads
    Index("ix_risk_counters_ends", "ends_at"),
)

# A request counter per (key, fixed window) for a dialect's rate limits (OPPWA's two status calls a
# minute per payment): raised like a velocity counter, in one atomic statement; purged once `ends_at`
# (epoch seconds) has passed.
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("ends_at", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
)

# ------------------------------------------------------------------------------ dashboard (core.dashboard)

# A person who signs in to the dashboard for one merchant; the password only as an argon2id hash.
dashboard_users = Table(
    "dashboard_users",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("merchant_id", String(40), ForeignKey("merchants.id"), nullable=False),
    Column("email", String(254), nullable=False, unique=True),  # lower-cased
    Column("role", String(12), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", Timestamp(), nullable=False),
    Column("disabled_at", Timestamp()),
)

# A signed-in browser. The cookie holds a random token; only its SHA-256 is kept, so a database dump
# signs no one in. `csrf_token` is the synchroniser token every form of the session must carry.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(40), ForeignKey("dashboard_users.id"), nullable=False),
    Column("merchant_id", String(40), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("ip", String(45)),
    Column("created_at", Timestamp(), nullable=False),
    Column("last_seen_at", Timestamp(), nullable=False),
    Column("expires_at", Timestamp(), nullable=False),
    Index("ix_dashboard_sessions_user", "user_id"),
    Index("ix_dashboard_sessions_expiry", "expires_at"),
)

# Failed sign-ins, by account (`email:<address>`) and by caller (`ip:<address>`), counted over a window.
dashboard_signin_failures = Table(
    "dashboard_signin_failures",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("key", String(300), nullable=False),
    Column("at", Timestamp(), nullable=False),
    Index("ix_dashboard_signin_failures_key", "key", "at"),
)

# Every dashboard action: who, what, on what, when and from where. `detail` holds amounts and names,
# never a card number or a secret (core.dashboard.audit checks what goes in).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("merchant_id", String(40), nullable=False),
    Column("mode", String(4), nullable=False),
    Column("user_id", String(40)),
    Column("user_email", String(254)),
    Column("action", String(60), nullable=False),
    Column("target", String(80)),
    Column("detail", JSON),
    Column("ip", String(45)),
    Column("created_at", Timestamp(), nullable=False),
    Index("ix_audit_log_merchant", "merchant_id", "id"),
)

# The persisted queue of ISO 8583 time-out reversals (core.payments.reversals): a row is added in the
# transaction that fails its payment and stays due until the acquirer acknowledged the reversal.
reversal_queue = Table(
    "reversal_queue",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("payment_id", String(40), ForeignKey("payments.id"), nullable=False),
    Column("operation_id", String(40), nullable=False),
    Column("processor", String(40), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("original_data", JSON, nullable=False),
    Column("data", JSON, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_response", String(12)),
    Column("created_at", Timestamp(), nullable=False),
    Column("next_attempt_at", Timestamp(), nullable=False),
    Column("acknowledged_at", Timestamp()),
    Index("ix_reversal_queue_due", "acknowledged_at", "next_attempt_at"),
    Index("ix_reversal_queue_payment", "payment_id"),
)
