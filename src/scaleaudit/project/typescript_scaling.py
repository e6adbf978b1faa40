"""SA501, SA505, SA541: what a Node.js project lacks, judged across all files.

Facts: `js-feature` (express-app, socket-io-server, socket-io-adapter,
compression, error-tracking) from the TypeScript front end, and
`process-model` from PM2 ecosystem files, compose and Procfiles.
"""

from __future__ import annotations

from collections.abc import Iterator

from scaleaudit.model import Confidence, Fact, Finding, Severity
from scaleaudit.project import ProjectContext
from scaleaudit.project.scaling_common import finding


def _features(ctx: ProjectContext) -> dict[str, list[Fact]]:
    out: dict[str, list[Fact]] = {}
    for fact in ctx.of_kind("js-feature"):
        out.setdefault(str(fact.get("feature")), []).append(fact)
    return out


def several_processes(ctx: ProjectContext) -> str:
    """Evidence that more than one process serves requests, as a phrase, or ''."""
    for fact in ctx.of_kind("process-model"):
        instances, workers, mode = fact.get("instances"), fact.get("workers"), fact.get("mode")
        if (isinstance(instances, int) and instances > 1) or (isinstance(workers, int) and workers > 1):
            return f"{fact.location.path} runs {max(instances or 1, workers or 1)} processes"
        if mode == "cluster" and instances is None:
            return f"{fact.location.path} runs one process per CPU core (cluster mode)"
    return ""


def socketio_without_adapter(ctx: ProjectContext) -> Iterator[Finding]:
    features = _features(ctx)
    if features.get("socket-io-adapter"):
        return
    evidence = several_processes(ctx)
    for fact in features.get("socket-io-server", ()):
        if evidence:
            yield finding(ctx, "SA501", fact, anchor="SA501", evidence=evidence)
        else:
            yield finding(
                ctx,
                "SA501",
                fact,
                anchor="SA501",
                confidence=Confidence.MEDIUM,
                severity=Severity.MEDIUM,
                evidence="this breaks as soon as a second instance runs",
            )


def _first_app(features: dict[str, list[Fact]]) -> Fact | None:
    apps = sorted(features.get("express-app", ()), key=lambda f: (f.location.path, f.location.span))
    return apps[0] if apps else None


def no_compression(ctx: ProjectContext) -> Iterator[Finding]:
    features = _features(ctx)
    app = _first_app(features)
    if app is not None and not features.get("compression") and not ctx.of_kind("compression"):
        yield finding(ctx, "SA505", app, anchor="SA505")


def no_error_tracking(ctx: ProjectContext) -> Iterator[Finding]:
    features = _features(ctx)
    app = _first_app(features)
    # `error-tracking` facts come from the Python front end: one tracker covers the project.
    if app is not None and not features.get("error-tracking") and not ctx.of_kind("error-tracking"):
        yield finding(ctx, "SA541", app, anchor="SA541")


RULES = {"SA501": socketio_without_adapter, "SA505": no_compression, "SA541": no_error_tracking}
