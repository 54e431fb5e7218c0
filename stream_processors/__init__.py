"""Faust stream processing: validate, categorise, route, keep live metrics and sink to Postgres."""
