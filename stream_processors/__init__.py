"""Faust stream processing: validate, categorize, route, keep live metrics and sink to Postgres."""
