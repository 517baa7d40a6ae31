"""Fixtures for the providers tests: the shared world of organisations and people."""

from tests.world import fast_password_hashing, world  # noqa: F401
