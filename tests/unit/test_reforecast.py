"""The intraday revision of the rest of the day."""

import doctest

import numpy as np
import pytest

from batch import reforecast
from batch.reforecast import revise

DAY = np.array([2.0] * 8 + [20.0] * 10 + [6.0] * 6)  # quiet night, busy day, evening


def test_docstring_examples_run() -> None:
    assert doctest.testmod(reforecast).failed == 0


def test_a_day_running_as_forecast_is_left_as_it_is() -> None:
    revision = revise(DAY, arrivals_so_far=float(DAY[:11].sum()), elapsed_hours=11.0)
    assert revision.ratio == pytest.approx(1.0)
    assert np.allclose(revision.rest, DAY[11:])


def test_a_busy_morning_scales_the_rest_of_the_day_and_the_prior_damps_it() -> None:
    so_far = float(DAY[:12].sum())  # 96 forecast by noon
    busy = revise(DAY, 2 * so_far, 12.0, prior_arrivals=0.0)
    assert busy.ratio == pytest.approx(2.0)
    assert busy.rest.sum() == pytest.approx(2 * DAY[12:].sum())
    damped = revise(DAY, 2 * so_far, 12.0, prior_arrivals=so_far)
    assert damped.ratio == pytest.approx(1.5)


def test_the_current_hour_counts_for_what_has_passed_of_it() -> None:
    revision = revise(DAY, arrivals_so_far=0.0, elapsed_hours=8.25, prior_arrivals=0.0)
    assert revision.forecast_so_far == pytest.approx(8 * 2.0 + 0.25 * 20.0)
    assert revision.ratio == 0.0
    assert len(revision.rest) == 16
    early = revise(DAY, 16.0 + 5.0, 8.25, prior_arrivals=0.0)
    assert early.rest[0] == pytest.approx(0.75 * 20.0)  # three quarters of the hour left
    with pytest.raises(ValueError, match="within the day's 24 hours"):
        revise(DAY, 0.0, 24.0)
