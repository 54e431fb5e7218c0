"""The ingest domain: validate, dead-letter and sink every source message."""
