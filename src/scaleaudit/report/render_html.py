"""The report as one self-contained HTML file: inline CSS and SVG, a few lines of JS, no network.

Readable on screen and on paper (print CSS opens every <details>), dark or
light from the system setting with a toggle. Charts are inline SVG: findings
by category and severity, and the connection budget as a bar against
max_connections.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from scaleaudit.report.model import Capacity, Evidence, Issue, Report
from scaleaudit.report.render_markdown import PRIORITY

SEVERITY_COLOURS = {"critical": "#c0392b", "high": "#e67e22", "medium": "#d4ac0d", "low": "#2e86c1", "info": "#95a5a6"}
STATUS_ICON = {"done": "✔", "open": "✘", "unknown": "?"}

CSS = """
:root{--bg:#fff;--fg:#1b1f23;--muted:#57606a;--card:#f6f8fa;--border:#d0d7de;--accent:#0969da}
:root[data-theme=dark]{--bg:#0d1117;--fg:#e6edf3;--muted:#8b949e;--card:#161b22;--border:#30363d;--accent:#58a6ff}
@media (prefers-color-scheme: dark){:root:not([data-theme=light]){--bg:#0d1117;--fg:#e6edf3;--muted:#8b949e;
--card:#161b22;--border:#30363d;--accent:#58a6ff}}
body{background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;
max-width:1100px;margin:0 auto;padding:1.5rem}
h1{margin:.2rem 0}h2{border-bottom:1px solid var(--border);padding-bottom:.3rem;margin-top:2rem}
a{color:var(--accent)}.muted{color:var(--muted)}
table{border-collapse:collapse;width:100%}td,th{border:1px solid var(--border);padding:.35rem .5rem;
text-align:left;vertical-align:top}th{background:var(--card)}
.verdict{background:var(--card);border-left:4px solid var(--accent);padding:.6rem 1rem;font-size:1.1rem}
.issue{border:1px solid var(--border);border-radius:6px;padding:.6rem 1rem;margin:.8rem 0;background:var(--card)}
.sev{display:inline-block;color:#fff;border-radius:4px;padding:0 .4rem;font-size:.8rem;font-weight:600}
pre{background:var(--bg);border:1px solid var(--border);padding:.4rem;overflow-x:auto;font-size:.8rem}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}.chart{flex:1 1 420px}
svg text{fill:var(--fg);font-size:12px}
.done{color:#1a7f37}.open{color:#cf222e}.unknown{color:var(--muted)}
#theme{float:right}
@media print{#theme{display:none}details{display:block}details>*{display:block}.issue{break-inside:avoid}
body{max-width:none}}
"""

JS = """
(function(){var b=document.getElementById('theme');if(!b)return;b.addEventListener('click',function(){
var r=document.documentElement;var dark=r.getAttribute('data-theme')==='dark'||(!r.getAttribute('data-theme')&&
window.matchMedia('(prefers-color-scheme: dark)').matches);r.setAttribute('data-theme',dark?'light':'dark');});
var bars=document.querySelectorAll('svg .bar'),ok=bars.length>0;bars.forEach(function(b){
if(!(b.getBBox().width>=0))ok=false;});document.documentElement.setAttribute('data-charts',ok?'ok':'missing');
window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});
})();
"""


def render(report: Report) -> str:
    body = "\n".join(_body(report))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>Scalability review: {escape(report.project)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n<script>{JS}</script>\n</body>\n</html>\n"
    )


def _body(report: Report) -> Iterator[str]:
    yield '<button id="theme" type="button">dark / light</button>'
    yield f"<h1>Scalability review: {escape(report.project)}</h1>"
    yield (
        f'<p class="muted">Target: <b>{report.target_users:,} concurrent users</b> · {report.files_scanned} files, '
        f"{report.lines:,} lines · live checks: {escape(report.live)}</p>"
    )
    yield f'<p class="verdict"><b>{escape(report.verdict.headline)}</b></p>'
    if report.no_problems:
        yield (
            '<p class="done"><b>No problems found.</b> '
            "Nothing in the code stands between this app and the target load.</p>"
        )
    yield from _comparison(report)
    yield '<div class="charts">'
    yield f'<div class="chart"><h3>Findings by category and severity</h3>{category_chart(report)}</div>'
    yield f'<div class="chart"><h3>Connection budget</h3>{budget_chart(report.capacity)}</div>'
    yield "</div>"
    yield "<h2>Architecture</h2><table><tr><th>aspect</th><th>detected</th><th>evidence</th></tr>"
    for item in report.architecture:
        ev = ", ".join(f"<code>{escape(e.where)}</code>" for e in item.evidence) or "—"
        yield f"<tr><td>{escape(item.aspect)}</td><td>{escape(item.value)}</td><td>{ev}</td></tr>"
    yield "</table>"
    yield f"<h2>Critical issues ({len(report.issues)})</h2>"
    if not report.issues:
        yield "<p>None found.</p>"
    for issue in report.issues:
        yield from _issue(issue)
    yield from _capacity(report.capacity)
    yield "<h2>Monolith or microservices?</h2>"
    yield f"<p><b>{escape(report.verdict.headline)}</b></p><ul>"
    yield from (f"<li>{escape(r)}</li>" for r in report.verdict.reasons)
    yield "</ul><p>What would change that:</p><ul>"
    yield from (f"<li>{escape(r)}</li>" for r in report.verdict.would_change)
    yield "</ul>"
    yield from _actions(report)
    yield "<h2>Implementation checklist</h2><ul>"
    for line in report.checklist:
        links = " ".join(f'<a href="#issue-{escape(i.lower())}">{escape(i)}</a>' for i in line.issues)
        ev = ", ".join(f"<code>{escape(e.where)}</code>" for e in line.evidence)
        yield (
            f'<li class="{line.status}"><b>{STATUS_ICON[line.status]} {line.number}. {escape(line.title)}</b> — '
            f"{line.status}: {escape(line.reason)} {links} {ev}</li>"
        )
    yield "</ul>"
    yield '<p class="muted">Generated by scaleaudit.</p>'


def _badge(severity: str) -> str:
    return f'<span class="sev" style="background:{SEVERITY_COLOURS[severity]}">{escape(severity)}</span>'


def _issue(issue: Issue) -> Iterator[str]:
    yield f'<div class="issue" id="issue-{escape(issue.id.lower())}">'
    yield f"<h3>{_badge(issue.severity)} {escape(issue.rule)} {escape(issue.title)}</h3>"
    yield (
        f'<p class="muted">{escape(issue.confidence)} confidence · {escape(issue.category)} · priority '
        f"{issue.priority} · automatic fix: {escape(issue.autofix)}</p>"
    )
    if issue.impact:
        yield f"<p><b>Impact at target:</b> {escape(issue.impact)}</p>"
    if issue.fix:
        yield f"<p><b>Fix:</b> {escape(issue.fix)}</p>"
    yield f"<details><summary>{len(issue.locations)} location(s) with code</summary>"
    for loc in issue.locations:
        yield from _location(loc)
    yield "</details></div>"


def _location(loc: Evidence) -> Iterator[str]:
    yield f"<p><code>{escape(loc.where)}</code> — {escape(loc.note)}</p>"
    if loc.excerpt:
        yield f"<pre>{escape(loc.excerpt)}</pre>"


def _capacity(c: Capacity) -> Iterator[str]:
    yield f"<h2>Capacity at {c.target_users:,} users</h2><table>"
    rows = [("processes", f"{c.instances} instance(s) × {c.workers} worker(s) = {c.processes}")]
    if c.pool_per_process is None:
        rows.append(("database pool per process", "no long-lived database client found"))
    else:
        rows.append(
            (
                "connection budget",
                f"{c.processes} × {c.pool_per_process} = {c.fleet_connections} vs {c.usable} "
                f"usable (max_connections {c.max_connections} − {c.reserved} reserved): "
                + ("fits" if c.fits else "exceeds the budget"),
            )
        )
    redis = (
        "unbounded" if c.redis_connections_per_process is None else str(c.redis_connections_per_process * c.processes)
    )
    rows.append(
        (
            "Redis",
            f"{c.redis_clients_per_process} client(s) per process; fleet connections: {redis} "
            f"(maxclients {c.redis_maxclients:,})",
        )
    )
    rows.append(
        (
            "request concurrency",
            f"{c.requests_per_second:g} req/s; {c.mean_db_busy:g} DB connections busy on "
            f"average, {c.peak_db_busy} at peak",
        )
    )
    yield from (f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    yield "</table><p>Assumptions (<i>default</i> means not found in the project; change them with flags):</p><ul>"
    yield from (f"<li>{escape(a.name)}: <b>{escape(a.value)}</b> ({escape(a.source)})</li>" for a in c.assumptions)
    yield from (f"<li>{escape(n)}</li>" for n in c.notes)
    yield "</ul>"


def _actions(report: Report) -> Iterator[str]:
    yield "<h2>Prioritised actions</h2>"
    if not report.actions:
        yield "<p>Nothing to do: keep the checklist green.</p>"
    for priority in (1, 2, 3):
        items = [a for a in report.actions if a.priority == priority]
        if items:
            yield f"<h3>{escape(PRIORITY[priority])}</h3><ol>"
            for a in items:
                links = " ".join(f'<a href="#issue-{escape(i.lower())}">{escape(i)}</a>' for i in a.issues)
                yield f"<li>{escape(a.text)} {links}</li>"
            yield "</ol>"


def _comparison(report: Report) -> Iterator[str]:
    comp = report.comparison
    if comp is None:
        return
    yield f"<h2>Progress since {escape(comp.previous)}</h2>"
    for label, items in (
        ("Fixed", comp.fixed),
        ("New", comp.new),
        ("Remaining", comp.remaining),
        ("Checklist", comp.checklist_changes),
    ):
        yield f"<p><b>{label} ({len(items)})</b></p><ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def category_chart(report: Report) -> str:
    """Horizontal stacked bars: one per category, one segment per severity."""
    rows = report.by_category
    if not rows:
        return (
            '<svg id="chart-categories" role="img" width="420" height="40"><text x="0" y="24">no findings</text></svg>'
        )
    top = max(sum(n for _, n in counts) for _, counts in rows)
    width, label_w, row_h = 420, 150, 24
    parts = [
        f'<svg id="chart-categories" role="img" aria-label="findings by category" width="{width}" '
        f'height="{row_h * len(rows) + 30}" viewBox="0 0 {width} {row_h * len(rows) + 30}">'
    ]
    for index, (category, counts) in enumerate(rows):
        y = index * row_h
        parts.append(f'<text x="0" y="{y + 16}">{escape(category)}</text>')
        x = float(label_w)
        for severity, count in counts:
            w = (width - label_w - 30) * count / top
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="16" '
                f'fill="{SEVERITY_COLOURS[severity]}"><title>{escape(severity)}: {count}</title></rect>'
            )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 16}">{sum(n for _, n in counts)}</text>')
    legend_y = row_h * len(rows) + 20
    for i, (severity, colour) in enumerate(SEVERITY_COLOURS.items()):
        parts.append(
            f'<rect x="{i * 80}" y="{legend_y - 10}" width="10" height="10" fill="{colour}"></rect>'
            f'<text x="{i * 80 + 14}" y="{legend_y}">{severity}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def budget_chart(c: Capacity) -> str:
    """The fleet's possible connections as a bar against max_connections (and the usable line)."""
    fleet = c.fleet_connections or 0
    scale_max = max(fleet, c.max_connections, c.peak_db_busy, 1) * 1.1
    width, left = 420, 120

    def x(value: float) -> float:
        return left + (width - left - 10) * value / scale_max

    colour = "#c0392b" if c.fits is False else "#1a7f37"
    bars = [
        ("pools can open", fleet, colour),
        ("peak demand", c.peak_db_busy, "#2e86c1"),
        ("max_connections", c.max_connections, "#95a5a6"),
    ]
    parts = [
        f'<svg id="chart-budget" role="img" aria-label="connection budget" width="{width}" height="120" '
        f'viewBox="0 0 {width} 120">'
    ]
    for i, (label, value, fill) in enumerate(bars):
        y = 10 + i * 30
        parts.append(
            f'<text x="0" y="{y + 14}">{label}</text><rect class="bar" x="{left}" y="{y}" '
            f'width="{x(value) - left:.1f}" height="18" fill="{fill}"><title>{label}: {value}</title></rect>'
            f'<text x="{x(value) + 4:.1f}" y="{y + 14}">{value}</text>'
        )
    parts.append(
        f'<line x1="{x(c.usable):.1f}" x2="{x(c.usable):.1f}" y1="4" y2="100" stroke="#cf222e" '
        f'stroke-dasharray="4 3"></line><text x="{x(c.usable) + 3:.1f}" y="112">usable {c.usable}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
