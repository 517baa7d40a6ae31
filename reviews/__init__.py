"""RAG status, dashboards, review acts and assurance reports."""
