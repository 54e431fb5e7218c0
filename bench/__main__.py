"""`python -m bench [NAME ...]`: run benchmarks on a throwaway stack, write bench/results/."""

import logging
import signal
import sys
from pathlib import Path

import typer

from bench import (
    backfill,
    batch,
    categorizer,
    dashboard,
    forecast,
    ingest,
    pipeline,
    reforecast,
    report,
    routing,
    routing_loop,
    skeleton,
)

app = typer.Typer(help="Run benchmarks; each writes bench/results/<name>.json and .md.", no_args_is_help=True)


@app.callback()
def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    # SIGTERM unwinds like Ctrl-C, so the throwaway stack is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@app.command("skeleton")
def skeleton_bench(
    count: int = typer.Option(200_000, help="Events to move through each stage."),
) -> None:
    """Producer and walking-skeleton throughput beside a plain consume-produce passthrough."""
    rows = skeleton.run(count)
    for row in rows:
        row["events"] = count
    path = report.write(
        "skeleton",
        "Producer and walking-skeleton throughput",
        rows,
        notes="ratio: events/s relative to the plain passthrough measured in the same run. "
        "See bench/skeleton.py for what each row times.",
    )
    typer.echo(path.read_text())


@app.command("forecast")
def forecast_bench(seeds: int = typer.Option(50, help="Series per history length.")) -> None:
    """Every forecast method and the backtest's choice on held-out weeks of call-centre-like arrivals."""
    path = report.write(
        "forecast",
        "Forecast methods on held-out weeks of hourly call-centre arrivals",
        forecast.run(seeds),
        notes="vs naive: held-out MASE relative to seasonal naive on the same series (below 1 beats it). "
        "auto: the nightly job's choice by rolling-origin backtest inside the history, its 80% interval "
        "calibrated on that backtest (auto, uncalibrated: the chosen method's own interval). "
        "See bench/forecast.py for the data and what each column measures.",
    )
    typer.echo(path.read_text())


@app.command("reforecast")
def reforecast_bench(seeds: int = typer.Option(4, help="Series (a week of days each).")) -> None:
    """Intraday reforecast: the rest of the day revised from the arrivals so far, against the nightly
    forecast, on backfilled call-centre-like arrivals."""
    path = report.write(
        "reforecast",
        "Intraday reforecast against the nightly forecast, rest of the day",
        reforecast.run(seeds),
        notes="Errors are means over days (a week per series) of the rest of the day's total and of "
        "its hourly absolute error; the nightly forecast is the backtest's choice, made at midnight. "
        "See bench/reforecast.py.",
    )
    typer.echo(path.read_text())


@app.command("ingest")
def ingest_bench(
    seconds: int = typer.Option(10, help="Seconds of load per run."),
    runs: int = typer.Option(3, help="Runs of each server (min/median/max are reported)."),
) -> None:
    """Webhook gateway requests/s and p50/p99 latency beside a baseline that only answers 202."""
    path = report.write(
        "ingest",
        "Webhook gateway: requests/s and latency",
        ingest.run(seconds, runs),
        notes=f"One server process each (uvicorn with uvloop and httptools), {ingest.CONCURRENCY} "
        "connections from autocannon on the same 2 cores, Kafka beside them. Each request is a signed "
        "Zendesk comment_added delivery (one per run, as a retried delivery would be); the gateway "
        "answers 202 once Kafka acknowledged (acks=all) the mapped event. All the load comes from one "
        "address, so the bench lifts the per-client rate limit (CXA_INGEST_RATE_LIMIT, 1000/second by "
        "default). Goal: >= 2,000 requests/s with p99 < 100 ms. See bench/ingest.py.",
    )
    typer.echo(path.read_text())


@app.command("backfill")
def backfill_bench(days: int = typer.Option(365, help="Days of history to simulate.")) -> None:
    """Simulator backfill throughput: a year of a mid-size centre, alone and published to Kafka."""
    path = report.write(
        "backfill",
        "Simulator backfill throughput",
        backfill.run(days),
        notes="Default settings (820 tickets on an average day at the start, 8% yearly growth, "
        "60 agents). peak_rss_mb is this process's peak resident memory so far.",
    )
    typer.echo(path.read_text())


@app.command("pipeline")
def pipeline_bench(
    days: int = typer.Option(7, help="Simulated days published as the backlog."),
    rate: float = typer.Option(500, help="Events per second for the latency measurement."),
    seconds: float = typer.Option(30, help="How long the latency measurement publishes."),
) -> None:
    """Full-pipeline throughput on one worker beside a plain passthrough, and produce-to-row latency."""
    path = report.write(
        "pipeline",
        "Full stream pipeline: throughput and latency",
        pipeline.run(days, rate, seconds),
        notes="One worker with every agent on (validate, categorize and learn, floor state and routing, "
        "live tables, sink), Kafka and PostgreSQL beside it on the same 2 cores. Backlog rates count from "
        "the first committed row: 'rows in PostgreSQL' to the last row, 'every agent done' until the "
        "worker has committed every topic it reads (the floor and the categorizer finish after the sink; "
        "offsets are committed each second). Latency is measured once every agent has caught up. "
        "Targets: >= 3,000 events/s sustained; p99 < 1 s at 500 events/s. See bench/pipeline.py.",
    )
    typer.echo(path.read_text())


@app.command("routing")
def routing_bench(
    seeds: int = typer.Option(50, help="Seeded batches per size."),
) -> None:
    """Routing decision time per policy and batch size, optimiser-vs-fallback count, gap to optimum."""
    rows = routing.run([(50, 20), (200, 100), (1000, 200)], seeds)
    path = report.write(
        "routing",
        "Routing decision time and quality per policy",
        rows,
        notes="Time: the whole route() call per batch (scoring, model build, CBC solve, fallback). "
        "optimizer_decided: batches the PuLP/CBC model decided, the rest fell back to greedy. "
        "gap_to_optimum_pct: total score below the exact optimum over all eligible pairs (assignment "
        "method, same capacities and fairness cap); round robin and least-loaded ignore skills and "
        "the fairness cap, so theirs compares unlike constraint sets. Target: 200x100 optimizer p95 "
        "<= 250 ms. See bench/routing.py for the workload.",
    )
    typer.echo(path.read_text())


@app.command("categorizer")
def categorizer_bench(
    data: Path = typer.Option(categorizer.DEFAULT_DATA, help="BANKING77 train.csv (text, category)."),
    seeds: str = typer.Option("7,11,23", help="Comma-separated seeds of the stratified 80/20 splits."),
    batch_size: int = typer.Option(32, help="Mini-batch of the training stream."),
    baselines: bool = typer.Option(True, help="Also run River's pipelines and the batch linear SVM."),
    test: Path | None = typer.Option(
        None, help="BANKING77's official test.csv: also stream the whole DATA file and score on it."
    ),
) -> None:
    """Categorizer held-out accuracy, macro-F1, docs/s and memory on BANKING77 in three arrival
    orders, with smaller reservoirs, beside River's own pipelines and a batch linear SVM."""
    if test is not None and not test.is_file():
        raise typer.BadParameter(f"{test} is not a file; pass BANKING77's test.csv (text, category)")
    rows = categorizer.run(data, [int(seed) for seed in seeds.split(",")], batch_size, baselines, test)
    path = report.write(
        "categorizer",
        "Online categorizer on BANKING77: arrival orders, reservoirs and baselines",
        rows,
        notes="Targets: held-out accuracy >= 0.91 after one pass, whatever the arrival order within 3 "
        "points of the shuffled stream; >= 5,000 docs/s predict+learn on one core. Mini-batches of "
        f"{batch_size} (the worker takes up to 256 at a time). docs_per_s includes spaCy tokenisation, "
        "hashing, prediction and learning with 3x rehearsal from the reservoir and 2x generated "
        "pseudo-documents from the per-category statistics (generative replay; while the latest 64 "
        "labels cover few categories, as when they arrive in blocks, 3x as much of both, a third of "
        "the stored examples drawn from the latest 256 documents), and predictions that multiply "
        "the linear model's probabilities by the same statistics' naive Bayes (weight 0.03); the 'no "
        "naive Bayes in predictions' and 'no generative replay' rows are the same streams without "
        "them. Timing starts after an untimed warm-up pass. split_seed 7, 11, 23: stratified 80/20 "
        "splits of the training file. A reservoir of 10,000 holds all of an "
        "8,000-example stream; 800 and 80 show a stream 10x and 100x longer than the reservoir. "
        "split_seed 'official': the whole training file (10,003) scored on the official test split "
        "(3,080; --test), with reservoirs 10,000, 1,000 and 100, and with model seeds 1-4 (the model's "
        "own random draws; 0 elsewhere). "
        "River's pipelines learn one example at a time; the SVMs are fitted on the whole "
        "training part at once, on scikit-learn's TF-IDF of words and characters, and on the "
        "categorizer's own hashed features. See bench/categorizer.py.",
    )
    typer.echo(path.read_text())


@app.command("batch")
def batch_bench(
    days: int = typer.Option(365, help="Days of synthetic history."),
    tickets_per_day: float = typer.Option(
        820, help="Average tickets a day at the start (about +20% by the end)."
    ),
) -> None:
    """The nightly job (dbt build, forecasts, staffing) over a year of history: full, then incremental."""
    path = report.write(
        "batch",
        "Nightly batch job: dbt build, forecasts, staffing",
        batch.run(days, tickets_per_day),
        notes="full: first run, every model built from scratch. incremental (+1 day): the next "
        "night, after one more day of events; incremental models reprocess only tickets with new "
        "events. Forecasts: 10 queues (5 channels, 5 categories) x hourly and daily grain, plus "
        "4-origin daily backtests per queue. See bench/batch.py.",
    )
    typer.echo(path.read_text())


@app.command("routing-loop")
def routing_loop_bench(
    days: int = typer.Option(4, help="Weekdays measured, from Monday 2026-03-02."),
    agents: int = typer.Option(36, help="Agents in the simulated centre."),
    tickets_per_day: float = typer.Option(820.0, help="Tickets on an average day."),
    seed: int = typer.Option(7, help="Seed of the workload (the same for every policy)."),
    interval: float = typer.Option(1.0, help="Micro-batch interval, simulated seconds."),
    route_timeout: float = typer.Option(12 * 3600.0, help="Simulated seconds before the fallback."),
    category_accuracy: float = typer.Option(0.85, help="Share of tickets the router gets right."),
    skill_threshold: float = typer.Option(0.6, help="Proficiency that counts as a skill match."),
) -> None:
    """Closed-loop routing quality per policy: waits, SLA attainment, skill match, occupancy, CSAT."""
    workload = routing_loop.Workload(
        days=days,
        agents=agents,
        tickets_per_day=tickets_per_day,
        seed=seed,
        interval_seconds=interval,
        route_timeout_seconds=route_timeout,
        category_accuracy=category_accuracy,
    )
    path = report.write(
        "routing_loop",
        "Routing quality in the closed-loop simulation, per policy",
        routing_loop.run(workload, skill_threshold=skill_threshold),
        notes=routing_loop.describe(workload, skill_threshold),
    )
    typer.echo(path.read_text())


@app.command("dashboard")
def dashboard_bench(
    days: int = typer.Option(365, help="Days of synthetic marts."),
    tickets_per_day: int = typer.Option(820, help="Tickets a day."),
    repeats: int = typer.Option(10, help="Timed runs per piece."),
) -> None:
    """Dashboard server time: wall-board refresh and each page's data + figure build on a year of marts."""
    path = report.write(
        "dashboard",
        "Dashboard server time per refresh and page build",
        dashboard.run(days, tickets_per_day, repeats),
        notes="Synthetic marts from tests/fixtures/marts.py (a year at 820 tickets a day, no extra "
        "indexes), a current live floor. Each piece: the queries and figure functions its callbacks "
        "run, inside a request, after one warm-up. Targets: wall board < 200 ms, page < 1 s. "
        "See bench/dashboard.py.",
    )
    typer.echo(path.read_text())


if __name__ == "__main__":
    app(prog_name="python -m bench")
