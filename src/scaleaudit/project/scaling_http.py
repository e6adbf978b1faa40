"""SA525 no-response-compression: an HTTP app and no compression anywhere."""

from __future__ import annotations

from collections.abc import Iterator

from scaleaudit.model import Fact, Finding
from scaleaudit.project import ProjectContext
from scaleaudit.project.scaling_common import finding, is_app_path


def app_entry(ctx: ProjectContext) -> Fact | None:
    """The project's web application object (the first, in path order), if any."""
    apps = sorted(
        (f for f in ctx.of_kind("http-app") if is_app_path(f.location.path)),
        key=lambda f: (f.location.path, f.location.span),
    )
    return apps[0] if apps else None


def no_compression(ctx: ProjectContext) -> Iterator[Finding]:
    app = app_entry(ctx)
    if app is None or ctx.of_kind("compression"):
        return
    yield finding(ctx, "SA525", app, anchor=f"{app.get('framework')}:no-compression", framework=app.get("framework"))


RULES = {"SA525": no_compression}
