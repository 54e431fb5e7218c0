"""Batch: dbt transformations, Prophet forecasts with backtests, staffing plans, the nightly job."""
