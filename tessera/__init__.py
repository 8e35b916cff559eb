"""Tessera: a self-hosted server-to-server card payment gateway."""

__version__ = "0.1.0"
