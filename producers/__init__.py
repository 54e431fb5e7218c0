"""Producers: publish ticket and workforce events to Kafka (simulator, backfill, replay)."""
