"""Webhook delivery: signing and sending (sender), and the loop that claims and records (worker)."""
