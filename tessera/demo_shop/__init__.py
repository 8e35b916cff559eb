"""A sample checkout for seed 002's browser flow (`tessera demo-shop`): a small merchant shop on its own
origin whose page tokenizes the card with tessera.js, and whose backend receives only the token and
pays with the secret key. It is a client of Tessera's public API over HTTP, nothing more: it imports
no core, storage or dialect code.
"""

from __future__ import annotations

from tessera.demo_shop.app import RequestLog, ShopConfig, create_shop_app

__all__ = ["RequestLog", "ShopConfig", "create_shop_app"]
