"""`scaleaudit rules [ID]`: what scaleaudit checks, and why."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from scaleaudit.cli import UserError, app
from scaleaudit.docs import rule_markdown
from scaleaudit.rulebook import load_rulebook


@app.command("rules")
def rules_command(
    rule: str | None = typer.Argument(None, help="A rule id, name or category to document."),
) -> None:
    """List the rules, or print one rule's documentation.

    scaleaudit rules            # the table
    scaleaudit rules SA101      # What it does / Why is this bad? / Example / Use instead / Fix safety
    """
    book = load_rulebook()
    console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    if rule is None:
        table = Table("id", "name", "category", "severity", "confidence", "fix", "checklist", box=None)
        for meta in sorted(book.rules.values(), key=lambda m: m.id):
            fix = meta.fix_safety.value if meta.fix_safety else "—"
            table.add_row(
                meta.id, meta.name, meta.category.value, meta.severity.value, meta.confidence.value, fix, meta.checklist
            )
        console.print(table)
        return
    matched = book.lookup(rule)
    if not matched:
        raise UserError(f"unknown rule {rule!r} (run `scaleaudit rules` for the list)")
    from rich.markdown import Markdown  # 30 ms of import every other command need not pay

    for meta in matched:
        console.print(Markdown(rule_markdown(meta, book)))
