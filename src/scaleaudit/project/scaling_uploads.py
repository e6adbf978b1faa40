"""SA523 local-upload-with-object-storage: disk writes of uploads × object storage elsewhere."""

from __future__ import annotations

from collections.abc import Iterator

from scaleaudit.model import Finding, Location
from scaleaudit.project import ProjectContext
from scaleaudit.project.scaling_common import finding, is_app_path


def local_uploads(ctx: ProjectContext) -> Iterator[Finding]:
    storage = sorted(ctx.of_kind("object-storage"), key=lambda f: (f.location.path, f.location.span))
    if not storage:
        return
    first = storage[0]
    related = (Location(first.location.path, first.location.span, f"object storage: {first.get('how')}"),)
    for upload in ctx.of_kind("local-upload"):
        if not is_app_path(upload.location.path):
            continue
        yield finding(
            ctx,
            "SA523",
            upload,
            anchor=f"{upload.get('how')}:{upload.get('function')}",
            related=related,
            how=upload.get("how"),
            provider=first.get("provider"),
            storage=f"{first.location.path}:{first.location.span.line}",
        )


RULES = {"SA523": local_uploads}
