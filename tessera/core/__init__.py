"""The domain: payments, cards, money. Imports nothing from web, database or dialect code."""
