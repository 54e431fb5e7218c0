"""Connectors to real helpdesks: webhooks in (the ingest gateway), routing decisions written back."""
