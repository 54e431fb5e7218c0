"""Benchmark results as JSON plus a short Markdown table, both under bench/results/."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def write(name: str, title: str, rows: list[dict[str, Any]], notes: str = "") -> Path:
    """Write ``<name>.json`` (everything) and ``<name>.md`` (a table of ``rows``)."""
    RESULTS.mkdir(exist_ok=True)
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    host = machine()
    document = {"benchmark": name, "measured_at": measured_at, "machine": host, "rows": rows}
    (RESULTS / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
    columns = list(rows[0]) if rows else []
    lines = [
        f"# {title}",
        "",
        f"Measured {measured_at} on {host['cpus']} CPUs, Python {host['python']}.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row[column]) for column in columns) + " |")
    if notes:
        lines += ["", notes]
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) < 1:
            return f"{value:.3f}"  # shares and accuracies: a target of 0.90 needs the third digit
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return str(value)
