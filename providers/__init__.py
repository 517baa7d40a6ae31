"""Organisations (commissioners and providers), contracts, people and roles."""
