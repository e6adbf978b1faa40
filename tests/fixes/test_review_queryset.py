"""Review of the N+1 fixers' query edits (scaleaudit.fixes.queryset): inputs that once gave
code that crashed the run or failed at runtime, each checked against Django or SQLAlchemy."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import write_tree
from fixtest import SA_MODELS, assert_idempotent, dedent, fix_tree, run_python

UNSAFE = {"unsafe": True, "select": ["SA201"]}
MODELS = """
    from django.db import models


    class User(models.Model):
        name = models.CharField(max_length=9)


    class TicketQuerySet(models.QuerySet):
        def open(self):
            return self.filter(status="open")


    class Ticket(models.Model):
        title = models.CharField(max_length=9)
        status = models.CharField(max_length=9)
        owner = models.ForeignKey(User, on_delete=models.CASCADE)

        objects = TicketQuerySet.as_manager()


    class Comment(models.Model):
        body = models.TextField()
        ticket = models.ForeignKey(Ticket, related_name="comments", on_delete=models.CASCADE)
    """
# Runs in the fixed tree: three open tickets, and `queries(f)` = (f's result, queries it ran).
DJANGO = textwrap.dedent(
    """
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["app"], DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    )
    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from app.models import Comment, Ticket, User

    with connection.schema_editor() as editor:
        for model in (User, Ticket, Comment):
            editor.create_model(model)
    for n in range(3):
        Ticket.objects.create(title=f"t{n}", status="open", owner=User.objects.create(name=f"u{n}"))


    def queries(function):
        with CaptureQueriesContext(connection) as captured:
            result = function(None)
        return result, len(captured)
    """
)


def _tree(views: str) -> dict[str, str]:
    head = "from app.models import Ticket\n\n\n"
    return {"app/__init__.py": "", "app/models.py": MODELS, "app/views.py": head + textwrap.dedent(views).lstrip("\n")}


def _fix(root: Path, views: str) -> str:
    result = fix_tree(root, _tree(views), **UNSAFE)
    assert not result.failures and result.applied, (result.skipped, result.failures)
    assert_idempotent(root, **UNSAFE)
    return (root / "app/views.py").read_text()


def test_a_chain_written_one_call_per_line_is_extended_in_place(tmp_path: Path) -> None:
    # The receiver `Ticket.objects\n.open()` was re-parsed as text: it does not parse on its
    # own, and the whole fix run stopped with a ParserSyntaxError.
    fixed = _fix(
        tmp_path,
        """
        def board(request):
            tickets = (
                Ticket.objects  # every ticket
                .open()
                .order_by("id")
            )
            return [t.owner.name for t in tickets]
        """,
    )
    assert '        Ticket.objects  # every ticket\n        .open().select_related("owner")\n' in fixed
    run_python(tmp_path, DJANGO + 'assert queries(__import__("app.views").views.board) == (["u0", "u1", "u2"], 1)\n')


def test_get_queryset_stays_on_the_manager(tmp_path: Path) -> None:
    # `Ticket.objects.select_related("owner").get_queryset()`: a QuerySet has no get_queryset().
    fixed = _fix(
        tmp_path,
        """
        def board(request):
            return [t.owner.name for t in Ticket.objects.get_queryset().order_by("id")]
        """,
    )
    assert 'Ticket.objects.get_queryset().select_related("owner").order_by("id")' in fixed
    run_python(tmp_path, DJANGO + 'assert queries(__import__("app.views").views.board) == (["u0", "u1", "u2"], 1)\n')


NAIVE = """
    def board(request):
        tickets = Ticket.objects.select_related("owner").order_by("id")
        tickets = tickets.only("title")
        return [t.owner.name for t in tickets]
    """


@pytest.mark.parametrize(
    ("views", "reason"),
    [
        (
            """
            def board(request):
                tickets = Ticket.objects.order_by("id")
                tickets = tickets.only("title")
                return [t.owner.name for t in tickets]
            """,
            "calls only() where it is refined or used",
        ),
        (
            """
            def board(request):
                tickets = Ticket.objects.order_by("id")
                return [t.owner.name for t in tickets.defer("owner")]
            """,
            "calls defer() where it is refined or used",
        ),
        (
            """
            async def board(request):
                tickets = Ticket.objects.order_by("id")
                return [[c.body for c in t.comments.all()] async for t in tickets.aiterator()]
            """,
            "aiterator() does not prefetch before Django 5.0",
        ),
    ],
    ids=["only-refinement", "defer-at-use", "aiterator"],
)
def test_loading_that_would_fail_where_the_query_is_used_is_skipped(tmp_path: Path, views: str, reason: str) -> None:
    files = _tree(views)
    result = fix_tree(tmp_path, files, **UNSAFE)
    assert not result.changes
    (skip,) = [s for s in result.skipped if s.rule == "SA201"]
    assert reason in skip.reason and "by hand" in skip.reason, skip.reason


def test_the_edit_the_only_skip_prevents_fails_in_django(tmp_path: Path) -> None:
    # What the fix wrote before: Django refuses a field deferred by only() and joined.
    write_tree(tmp_path, dedent(_tree(NAIVE)))
    check = """
        from django.core.exceptions import FieldError
        try:
            queries(__import__("app.views").views.board)
        except FieldError as exc:
            assert "cannot be both deferred and traversed" in str(exc)
        else:
            raise AssertionError("no FieldError")
        """
    run_python(tmp_path, DJANGO + textwrap.dedent(check))


def test_a_sqlalchemy_union_is_skipped(tmp_path: Path) -> None:
    # `.options()` went on the first select of the UNION only, as if it loaded the whole result.
    api = """
        from sqlalchemy import select

        from app.models import User


        def users(session):
            stmt = select(User).union(select(User).where(User.id > 1))
            return [len(u.orders) for u in session.scalars(stmt)]
        """
    files = {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/api.py": api}
    result = fix_tree(tmp_path, files, **UNSAFE)
    assert not result.changes
    (skip,) = [s for s in result.skipped if s.rule == "SA201"]
    assert "a combined select (union())" in skip.reason and "selectinload(User.orders)" in skip.reason
