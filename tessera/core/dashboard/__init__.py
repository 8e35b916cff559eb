"""The dashboard's rules: users and their roles, sign-in, sessions, throttling and the audit log.

No HTTP or storage here: `tessera.dashboard` renders pages and `tessera.storage.dashboard` keeps rows.
"""
