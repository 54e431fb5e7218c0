"""`cxa categorizer ...`: evaluate the online categorizer on any labelled CSV, split a labelled file."""

import csv
import json
from pathlib import Path

import typer

from stream_processors.categorizer import Categorizer, CategorizerConfig, evaluate, stratified_split
from stream_processors.categorizer.evaluation import Example

app = typer.Typer(
    help="The online ticket categorizer (spaCy + River). The worker runs it live; these commands "
    "evaluate it offline on labelled files.",
    no_args_is_help=True,
)


def read_examples(path: Path, text_col: str, label_col: str) -> list[Example]:
    """(text, label) rows of a CSV file with a header, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {text_col, label_col} - set(reader.fieldnames or [])
        if missing:
            raise typer.BadParameter(f"{path} has no column(s) {', '.join(sorted(missing))}")
        return [(row[text_col], row[label_col]) for row in reader if row[label_col]]


def write_examples(path: Path, examples: list[Example], text_col: str, label_col: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([text_col, label_col])
        writer.writerows(examples)


@app.command("evaluate")
def evaluate_command(
    train: Path = typer.Option(
        ..., exists=True, dir_okay=False, help="Labelled CSV streamed once, in order."
    ),
    test: Path = typer.Option(..., exists=True, dir_okay=False, help="Held-out labelled CSV."),
    text_col: str = typer.Option("text", help="Column with the ticket text."),
    label_col: str = typer.Option("category", help="Column with the category."),
    batch_size: int = typer.Option(32, min=1, help="Mini-batch of the stream (predict, then learn)."),
    language: str = typer.Option(
        "en", help="ISO 639-1 language of the texts (its spaCy tokenizer and lemmas)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Stream TRAIN through the live pipeline (predict, then learn, one pass), then score TEST.

    Reports prequential accuracy (on TRAIN, each example predicted before it is learned),
    held-out accuracy and macro-F1 on TEST, and predict+learn docs/s.
    """
    report = evaluate(
        Categorizer(CategorizerConfig()),
        read_examples(train, text_col, label_col),
        read_examples(test, text_col, label_col),
        batch_size=batch_size,
        language=language,
    )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    typer.echo(f"train examples         {report.train_examples}")
    typer.echo(f"test examples          {report.test_examples}")
    typer.echo(f"categories             {report.categories}")
    typer.echo(f"prequential accuracy   {report.prequential_accuracy:.4f}")
    typer.echo(f"held-out accuracy      {report.heldout_accuracy:.4f}")
    typer.echo(f"held-out macro-F1      {report.macro_f1:.4f}")
    typer.echo(
        f"predict+learn docs/s   {report.docs_per_second:,.0f} ({report.docs_per_cpu_second:,.0f} per CPU s)"
    )


@app.command("split")
def split_command(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, help="Labelled CSV to split."),
    train_out: Path = typer.Option(..., "--train-out", help="Where to write the training part."),
    test_out: Path = typer.Option(..., "--test-out", help="Where to write the held-out part."),
    text_col: str = typer.Option("text"),
    label_col: str = typer.Option("category"),
    test_fraction: float = typer.Option(0.2, min=0.01, max=0.99),
    seed: int = typer.Option(7),
) -> None:
    """A seeded stratified split of SOURCE; both parts shuffled (the training stream's order)."""
    train, test = stratified_split(read_examples(source, text_col, label_col), test_fraction, seed)
    write_examples(train_out, train, text_col, label_col)
    write_examples(test_out, test, text_col, label_col)
    typer.echo(f"wrote {len(train)} rows to {train_out} and {len(test)} to {test_out}")
