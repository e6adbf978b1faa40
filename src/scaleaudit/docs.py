"""Rule documentation generated from the YAML (docs/rules.md, `scaleaudit rules ID`).

Sections follow Ruff's per-rule docs: What it does / Why is this bad? /
Example / Use instead / Fix safety, plus our confidence story and the review
checklist item the rule serves.
"""

from __future__ import annotations

from scaleaudit.rulebook import Rulebook, RuleMeta


def rule_markdown(meta: RuleMeta, book: Rulebook) -> str:
    item = book.checklist.get(meta.checklist)
    checklist = f"{item.number}. {item.title}" if item else meta.checklist
    fix = meta.fix or "No automatic fix."
    safety = f"**{meta.fix_safety.value}** — {fix}" if meta.fix_safety else fix
    return "\n".join(
        [
            f"## {meta.id} `{meta.name}`",
            "",
            f"Category `{meta.category.value}` · severity **{meta.severity.value}** · "
            f"confidence **{meta.confidence.value}** · languages: {', '.join(meta.languages)} · "
            f"checklist: {checklist}",
            "",
            "### What it does",
            meta.summary,
            "",
            "### Why is this bad?",
            meta.why,
            "",
            "### Example",
            "```",
            meta.example,
            "```",
            "",
            "### Use instead",
            "```",
            meta.use_instead,
            "```",
            "",
            "### Fix safety",
            safety,
            "",
            "### Confidence",
            meta.precision or f"{meta.confidence.value}.",
            "",
        ]
    )


def rules_page(book: Rulebook) -> str:
    header = [
        "# Rules",
        "",
        "<!-- Generated from rules/*.yaml by `python scripts/gen_docs.py`; tests/test_docs.py keeps it in sync. -->",
        "",
        "| id | name | category | severity | confidence | fix |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    metas = sorted(book.rules.values(), key=lambda m: m.id)
    rows = [
        f"| [{m.id}](#{m.id.lower()}-{m.name}) | `{m.name}` | {m.category.value} | {m.severity.value} | "
        f"{m.confidence.value} | {m.fix_safety.value if m.fix_safety else '—'} |"
        for m in metas
    ]
    return "\n".join([*header, *rows, "", *(rule_markdown(m, book) for m in metas)])
