"""Generate a benchmark corpus: the fixture apps multiplied, with varied names.

    python benchmarks/gen_corpus.py /tmp/corpus --lines 500000

Each copy of a fixture app keeps its layout (views, routers, tests,
management commands — the paths rules look at) and renames its top-level
classes and functions; every Python file also gets a block of generated
plain business logic (loops over lists, dict work, string formatting, no
database calls) so files have the ~150-line size of real application code
rather than the fixtures' ~20. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
APPS = ("fastapi_shop", "django_helpdesk", "flask_chat", "express_prisma")
SUFFIXES = {".py", ".ts", ".js", ".prisma", ".html"}
_TOP_LEVEL = re.compile(r"^(class|def|async def) ([A-Za-z_]\w*)", re.MULTILINE)
_WORDS = ("order", "invoice", "customer", "ticket", "report", "shipment", "payment", "account", "item", "batch")


def _filler(rng: random.Random, lines: int) -> str:
    """Plain Python that parses like application code and matches no rule."""
    out: list[str] = ["", ""]
    while len(out) < lines:
        noun = rng.choice(_WORDS)
        name = f"summarise_{noun}_{rng.randrange(10**6)}"
        out += [
            f"def {name}(rows: list[dict], limit: int = {rng.randrange(5, 500)}) -> dict:",
            f'    """Summarise {noun} rows already in memory."""',
            "    totals: dict[str, float] = {}",
            "    seen = set()",
            "    for row in rows[:limit]:",
            f"        key = str(row.get('{noun}_id', '')) + ':' + row.get('status', 'new')",
            "        if key in seen:",
            "            continue",
            "        seen.add(key)",
            f"        totals[key] = totals.get(key, 0.0) + float(row.get('amount', {rng.random():.3f}))",
            "    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))",
            f"    return {{'count': len(seen), 'top': ranked[:{rng.randrange(3, 20)}], 'label': f'{noun}-{{limit}}'}}",
            "",
            "",
        ]
    return "\n".join(out) + "\n"


def _app_names(app: str) -> list[str]:
    """Top-level names of an app, renamed together so imports across its files still resolve."""
    names = {
        m.group(2)
        for path in (FIXTURES / app).rglob("*.py")
        for m in _TOP_LEVEL.finditer(path.read_text(encoding="utf-8"))
        if not m.group(2).startswith("_") and len(m.group(2)) > 3
    }
    return sorted(names, key=len, reverse=True)


def _vary(text: str, names: list[str], copy: int) -> str:
    if not names:
        return text
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return pattern.sub(lambda m: f"{m.group(1)}{copy}", text)


def generate(out: Path, target_lines: int, seed: int = 7, filler_lines: int = 130) -> tuple[int, int]:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    sources = [
        (app, path)
        for app in APPS
        for path in sorted((FIXTURES / app).rglob("*"))
        if path.is_file() and path.suffix in SUFFIXES and "node_modules" not in path.parts
    ]
    names = {app: _app_names(app) for app in APPS}
    files = lines = copy = 0
    while lines < target_lines:
        for app, path in sources:
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".py":
                text = _vary(text, names[app], copy) + _filler(rng, filler_lines)
            dest = out / f"svc{copy:04d}" / app / path.relative_to(FIXTURES / app)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
            files += 1
            lines += text.count("\n")
        copy += 1
    return files, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    files, lines = generate(args.out, args.lines, args.seed)
    print(f"wrote {files:,} files, {lines:,} lines to {args.out}")


if __name__ == "__main__":
    main()
