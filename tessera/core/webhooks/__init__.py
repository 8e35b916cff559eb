"""Webhooks: where a merchant's events go, how each delivery is retried, and what is sent."""
