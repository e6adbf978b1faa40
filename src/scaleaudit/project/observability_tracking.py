"""SA581 no-error-tracking: an HTTP app and no error tracking or APM anywhere."""

from __future__ import annotations

from collections.abc import Iterator

from scaleaudit.model import Finding
from scaleaudit.project import ProjectContext
from scaleaudit.project.scaling_common import finding, is_app_path
from scaleaudit.project.scaling_http import app_entry


def no_error_tracking(ctx: ProjectContext) -> Iterator[Finding]:
    app = app_entry(ctx)
    if app is None or any(is_app_path(f.location.path) for f in ctx.of_kind("error-tracking")):
        return
    yield finding(ctx, "SA581", app, anchor=f"{app.get('framework')}:no-error-tracking", framework=app.get("framework"))


RULES = {"SA581": no_error_tracking}
