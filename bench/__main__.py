"""`python -m bench [NAME ...]`: run benchmarks on a throwaway stack, write bench/results/."""

import logging

import typer

from bench import report, skeleton

app = typer.Typer(help="Run benchmarks; each writes bench/results/<name>.json and .md.", no_args_is_help=True)


@app.callback()
def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")


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


if __name__ == "__main__":
    app(prog_name="python -m bench")
