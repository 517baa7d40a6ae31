"""The standards catalogue: frameworks, their standards and assurance criteria, metrics and thresholds."""
