"""Quality of the live predictions, measured against the categories support agents confirm.

Rolling accuracy over the last ``window`` labelled tickets, per-category true/false positives and
false negatives (precision and recall follow), and drift detection with River's ADWIN on the error
stream (1 when the prediction was wrong, 0 when right).
"""

from collections import Counter, deque
from dataclasses import dataclass, field

from river import drift


@dataclass(frozen=True)
class DriftAlarm:
    """ADWIN found the error rate changed; ``error_rate`` is its estimate after the change."""

    labelled: int
    error_rate: float
    window: int


@dataclass(frozen=True)
class CategoryCounts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0


@dataclass
class MonitorReport:
    """What changed since the last report, and the rolling figures now."""

    labelled: int
    rolling_accuracy: float | None
    rolling_coverage: float | None
    error_rate: float
    categories: dict[str, CategoryCounts] = field(default_factory=dict)
    alarms: list[DriftAlarm] = field(default_factory=list)


class QualityMonitor:
    """Feed it (predicted, abstained, actual) per labelled ticket; take reports now and then.

    >>> monitor = QualityMonitor(window=4)
    >>> for guess, actual in [("card", "card"), ("card", "transfer"), ("transfer", "transfer")]:
    ...     monitor.observe(guess, False, actual)
    >>> report = monitor.report()
    >>> round(report.rolling_accuracy, 2), report.categories["card"]
    (0.67, CategoryCounts(true_positives=1, false_positives=1, false_negatives=0))
    """

    def __init__(self, window: int = 500, delta: float = 0.002) -> None:
        self._hits: deque[bool] = deque(maxlen=window)
        self._answered: deque[bool] = deque(maxlen=window)
        self._adwin = drift.ADWIN(delta=delta)
        self._delta = delta
        self.labelled = 0
        self._tp: Counter[str] = Counter()
        self._fp: Counter[str] = Counter()
        self._fn: Counter[str] = Counter()
        self._alarms: list[DriftAlarm] = []

    def observe(self, predicted: str | None, abstained: bool, actual: str) -> None:
        self.labelled += 1
        correct = predicted == actual
        self._hits.append(correct)
        self._answered.append(not abstained)
        if predicted is not None and not abstained:
            if correct:
                self._tp[actual] += 1
            else:
                self._fp[predicted] += 1
                self._fn[actual] += 1
        else:
            self._fn[actual] += 1
        self._adwin.update(0.0 if correct else 1.0)
        if self._adwin.drift_detected:
            self._alarms.append(
                DriftAlarm(self.labelled, float(self._adwin.estimation), int(self._adwin.width))
            )

    def report(self) -> MonitorReport:
        """Rolling figures now, and the category counts and alarms since the previous report."""
        names = set(self._tp) | set(self._fp) | set(self._fn)
        report = MonitorReport(
            labelled=self.labelled,
            rolling_accuracy=sum(self._hits) / len(self._hits) if self._hits else None,
            rolling_coverage=sum(self._answered) / len(self._answered) if self._answered else None,
            error_rate=float(self._adwin.estimation),
            categories={
                name: CategoryCounts(self._tp[name], self._fp[name], self._fn[name]) for name in sorted(names)
            },
            alarms=self._alarms,
        )
        self._tp, self._fp, self._fn = Counter(), Counter(), Counter()
        self._alarms = []
        return report
