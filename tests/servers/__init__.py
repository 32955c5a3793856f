"""Real mail servers on loopback for tests: Dovecot, aiosmtpd, pymap and scripted servers.

Each server is a context manager usable without pytest; ``tests.servers.fixtures`` wraps them as fixtures.
See README.md in this folder.
"""
