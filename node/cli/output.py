"""The CLI's output layer: rich tables and messages for people, or one JSON document (`--json`).

This is the only place in the project that prints.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


class Output:
    def __init__(self, as_json: bool = False):
        self.as_json = as_json
        self.console = Console(highlight=False)
        self.errors = Console(stderr=True, highlight=False)

    def result(self, data: Any, *, title: str | None = None) -> None:
        """A command's result: a mapping or a list of mappings."""
        if self.as_json:
            sys.stdout.write(json.dumps(data, default=str) + "\n")
            return
        if isinstance(data, dict):
            table = Table(title=title, show_header=False, box=None)
            for key, value in data.items():
                table.add_row(f"[bold]{key}[/bold]", _cell(value))
            self.console.print(table)
        elif isinstance(data, list) and data and isinstance(data[0], dict):
            self.table(list(data[0]), [[_cell(row[k]) for k in row] for row in data], title=title)
        else:
            self.console.print(_cell(data))

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(_cell(v) for v in row))
        self.console.print(table)

    def stream_start(self, prefix: str) -> None:
        """Text that will come in pieces (a streamed answer) begins; silent with --json."""
        if not self.as_json:
            self.console.print(prefix, end="", markup=False, style="bold")

    def stream(self, text: str) -> None:
        """The next piece of streamed text, shown at once; silent with --json."""
        if not self.as_json and text:
            self.console.print(text, end="", markup=False, soft_wrap=True)
            self.console.file.flush()

    def stream_end(self, record: Any = None) -> None:
        """The streamed text is complete: a newline for people, `record` as one JSON line with --json."""
        if self.as_json:
            if record is not None:
                sys.stdout.write(json.dumps(record, default=str) + "\n")
                sys.stdout.flush()
        else:
            self.console.print()

    def info(self, message: str) -> None:
        """Progress text for people; silent with --json."""
        if not self.as_json:
            self.errors.print(message)

    def error(self, message: str) -> None:
        if self.as_json:
            sys.stderr.write(json.dumps({"error": message}) + "\n")
        else:
            self.errors.print(f"[red]error:[/red] {message}", soft_wrap=True)  # One line, however long.


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)
