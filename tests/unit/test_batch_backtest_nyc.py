"""On the real NYC Council constituent-case series, the forecast the backtest chooses, and the
ensemble, beat seasonal naive.

Daily cases opened 2015-2023 (2024 onwards is incomplete, see the data's SOURCE.md). Rolling
origins: the last 12 four-week blocks of 2023, each forecast 28 days ahead.
"""

from pathlib import Path

import pytest

from batch.backtest import BASELINE, rolling_origin
from batch.forecast import ForecastConfig
from batch.series import read_series

DATA = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "nyc_council_constituent_complaints"
    / "nycomplaints.csv"
)

pytestmark = pytest.mark.skipif(not DATA.exists(), reason="the NYC complaints data set is not present")


def test_the_choice_beats_seasonal_naive_on_nyc_council_cases() -> None:
    series = read_series(DATA, "opendate", "D", end="2023-12-31")
    assert str(series.index[0].date()) == "2015-01-01"
    config = ForecastConfig(freq="D", uncertainty_samples=100, holidays_country="US")
    report = rolling_origin(series, 28, config, folds=12, step=28)
    ensemble, baseline = report.score("ensemble"), report.score(BASELINE)
    assert report.folds == 12
    assert ensemble.mase < baseline.mase
    assert report.beats_baseline("ensemble")
    assert 0.5 < ensemble.coverage <= 1.0
    assert report.best.method != BASELINE
    assert report.best.mase <= ensemble.mase
    # Prophet's and the ensemble's own 80% intervals cover 85-90% here; each fold scaled by the
    # factor the other folds give covers about what it claims, whatever the method.
    for score in report.scores:
        assert 0.75 <= score.calibrated_coverage <= 0.85, score
