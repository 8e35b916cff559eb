"""Payments: the aggregate, its operations and states, and the services that move money."""
