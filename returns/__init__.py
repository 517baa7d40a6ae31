"""Reporting periods, providers' quarterly returns, their answers and evidence."""
