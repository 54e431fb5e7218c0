"""Read a time series from a CSV: event timestamps (counted) or (timestamp, value) pairs (summed)."""

from pathlib import Path

import pandas as pd

from batch.forecast import regular_series


def read_series(
    path: Path,
    timestamp_col: str,
    freq: str,
    value_col: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> pd.Series:
    """A gap-free UTC series at ``freq`` from ``path``; periods outside [start, end] are dropped.

    Without ``value_col`` each row is one event and periods count rows; with it, periods sum it.
    Rows with an unparseable or empty timestamp are skipped.
    """
    columns = [timestamp_col] if value_col is None else [timestamp_col, value_col]
    try:
        frame = pd.read_csv(path, usecols=columns)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    stamps = pd.to_datetime(frame[timestamp_col], errors="coerce", utc=True)
    values = (
        pd.Series(1.0, index=frame.index)
        if value_col is None
        else pd.to_numeric(frame[value_col], errors="coerce")
    )
    keep = stamps.notna() & values.notna()
    if start is not None:
        keep &= stamps >= pd.Timestamp(start, tz="UTC")
    if end is not None:
        keep &= stamps <= pd.Timestamp(end, tz="UTC")
    if not keep.any():
        raise ValueError(f"{path}: no rows with a valid {timestamp_col!r} in range")
    counts = pd.Series(values[keep].to_numpy(dtype=float), index=pd.DatetimeIndex(stamps[keep]))
    return regular_series(counts, freq)
