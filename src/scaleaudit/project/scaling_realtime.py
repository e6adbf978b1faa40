"""SA521 socketio-without-message-queue: Socket.IO servers × the process model."""

from __future__ import annotations

from collections.abc import Iterator

from scaleaudit.model import Fact, Finding, Location
from scaleaudit.project import ProjectContext
from scaleaudit.project.scaling_common import describe_process, finding, processes


def _multi_process(ctx: ProjectContext) -> list[Fact]:
    """The process-model facts that say more than one process serves requests."""
    return [f for f in ctx.of_kind("process-model") if (processes(f) or 1) > 1]


def socket_servers_without_queue(ctx: ProjectContext) -> Iterator[Finding]:
    multi = _multi_process(ctx)
    if not multi:
        return
    evidence = multi[0]
    for server in ctx.of_kind("socketio-server"):
        if server.get("queue"):
            continue
        yield finding(
            ctx,
            "SA521",
            server,
            anchor=f"{server.get('qualname')}:{server.get('binding')}",
            related=(Location(evidence.location.path, evidence.location.span, describe_process(evidence)),),
            library=server.get("library"),
            processes=describe_process(evidence),
        )


RULES = {"SA521": socket_servers_without_queue}
