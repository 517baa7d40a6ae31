"""Fixtures for the providers tests: the shared world of organisations and people."""

from tests.world import as_person, fast_password_hashing, icbs, world  # noqa: F401
