"""Real labelled customer-support texts, grouped by their (hidden) true category."""

import csv
import random
from dataclasses import dataclass
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "banking77.csv"


@dataclass(frozen=True)
class TextBank:
    by_category: dict[str, list[str]]

    @property
    def categories(self) -> list[str]:
        return sorted(self.by_category)

    @classmethod
    def load(
        cls, path: Path | None = None, text_column: str = "text", label_column: str = "category"
    ) -> "TextBank":
        """Read a CSV of labelled texts; any label set works (the taxonomy is the file's)."""
        path = path or SHIPPED
        grouped: dict[str, list[str]] = {}
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {text_column, label_column} - set(reader.fieldnames or [])
            if missing:
                raise ValueError(
                    f"{path} has no column {', '.join(sorted(missing))}; its columns are "
                    f"{', '.join(reader.fieldnames or [])}. Set CXA_SIM_TEXT_COLUMN / "
                    "CXA_SIM_LABEL_COLUMN."
                )
            for row in reader:
                text, label = row[text_column].strip(), row[label_column].strip()
                if text and label:
                    grouped.setdefault(label, []).append(text)
        if not grouped:
            raise ValueError(f"{path} holds no labelled texts")
        return cls(grouped)

    def draw(self, rng: random.Random, category: str) -> tuple[str, str]:
        """A (subject, body) pair for a ticket of ``category``."""
        body = rng.choice(self.by_category[category])
        words = body.split()
        subject = " ".join(words[:8]) + ("..." if len(words) > 8 else "")
        return subject, body
