"""The HTML report in a real headless Chromium: loads without console errors, charts render, screenshot taken."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import need
from golden import build

from scaleaudit.report import render_html

pytestmark = pytest.mark.browser

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    assert binary is not None
    return subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_html_report_renders_in_chromium(tmp_path: Path) -> None:
    need(shutil.which("chromium") is not None, "chromium not installed (apt-get install chromium)")
    page = tmp_path / "report.html"
    page.write_text(render_html.render(build("flask_chat")), encoding="utf-8")
    url = page.as_uri()

    dom = _chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    # The page's own script checks the SVG bars laid out (getBBox) and marks the root element.
    assert 'data-charts="ok"' in dom.stdout
    assert dom.stdout.count('class="bar"') >= 5

    shot = tmp_path / "report.png"
    run = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", url)
    assert run.returncode == 0, run.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a rendered page, not a blank canvas
    print(f"screenshot: {shot}")
