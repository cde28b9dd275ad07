"""A readable table of every effective setting of one (sku, channel) for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gateway.domain.availability import Availability
from gateway.domain.quantity import format_qty


def render_explain(availability: Availability, channel: str,
                   console: Console | None = None) -> None:
    """Print the availability summary and the provenance of every option."""
    # Piped output (tests, `| less`) would otherwise wrap at 80 columns and split the table.
    console = console or Console(width=None if Console().is_terminal else 200)
    a = availability
    salable = "not managed" if a.salable_qty is None else format_qty(a.salable_qty)
    console.print(f"[bold]{a.sku}[/bold] in channel [bold]{channel}[/bold] (stock {a.stock_id}): "
                  f"{a.stock_status.value}, salable qty {salable}, "
                  f"physical {format_qty(a.physical)}, reserved {format_qty(a.reserved)}")
    table = Table(show_lines=False)
    for column in ("option", "value", "level", "source", "overrides", "note"):
        table.add_column(column)
    for s in a.settings:
        table.add_row(s.name, s.display, s.level.value, s.source_code or "",
                      ", ".join(level.value for level in s.overrides), s.note or "")
    console.print(table)
