"""SA201 fix: the looped query loads the relation the loop touches (select_related,
prefetch_related, selectinload), edited where the query is built."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import scan_tree
from fixtest import SA_MODELS, assert_fixed, assert_idempotent, dedent, fix_tree

from scaleaudit.fixes.base import FixResult

MODELS = """
    from django.db import models


    class Queue(models.Model):
        name = models.CharField(max_length=9)


    class User(models.Model):
        name = models.CharField(max_length=9)


    class Tag(models.Model):
        name = models.CharField(max_length=9)


    class Ticket(models.Model):
        title = models.CharField(max_length=9)
        status = models.CharField(max_length=9)
        queue = models.ForeignKey(Queue, on_delete=models.CASCADE)
        owner = models.ForeignKey(User, on_delete=models.CASCADE)
        customer = models.ForeignKey(User, related_name="+", on_delete=models.CASCADE)
        tags = models.ManyToManyField(Tag, related_name="tickets")


    class Comment(models.Model):
        body = models.TextField()
        ticket = models.ForeignKey(Ticket, related_name="comments", on_delete=models.CASCADE)
        author = models.ForeignKey(User, on_delete=models.CASCADE)
    """
HEAD = "from django.http import JsonResponse\n\nfrom app.models import Comment, Ticket\n\n\n"
UNSAFE = {"unsafe": True, "select": ["SA201"]}


def _views(body: str) -> dict[str, str]:
    return {"app/__init__.py": "", "app/models.py": MODELS, "app/views.py": HEAD + dedent({"v": body})["v"]}


def _fixed(tmp_path: Path, before: str, after: str) -> FixResult:
    result = assert_fixed(tmp_path, _views(before), {"app/views.py": HEAD + dedent({"v": after})["v"]}, **UNSAFE)
    assert_idempotent(tmp_path, **UNSAFE)
    assert not [f for f in scan_tree(tmp_path).findings if f.rule == "SA201"], "the fix must resolve the finding"
    return result


def _skipped(tmp_path: Path, before: str, *reason: str) -> None:
    files = _views(before)
    result = fix_tree(tmp_path, files, **UNSAFE)
    assert not result.changes
    assert (tmp_path / "app/views.py").read_text() == dedent(files)["app/views.py"]
    skips = [s for s in result.skipped if s.rule == "SA201"]
    assert skips, "the finding must be reported as skipped"
    for skip in skips:
        assert all(part in skip.reason for part in reason), skip.reason


def test_name_assigned_in_the_function_gets_select_related_and_keeps_its_slice(tmp_path: Path) -> None:
    result = _fixed(
        tmp_path,
        """
        def recent(request):
            comments = Comment.objects.order_by("-id")[:30]
            return JsonResponse({"c": [c.ticket.title for c in comments]})
        """,
        """
        def recent(request):
            comments = Comment.objects.select_related("ticket").order_by("-id")[:30]
            return JsonResponse({"c": [c.ticket.title for c in comments]})
        """,
    )
    (applied,) = result.applied
    assert applied.rule == "SA201" and "select_related(ticket)" in applied.description


def test_refinements_of_one_name_are_one_query(tmp_path: Path) -> None:
    # `qs = qs.filter(...)` narrows the query built first: that is where the relation goes.
    _fixed(
        tmp_path,
        """
        def board(request):
            tickets = Ticket.objects.only("title")
            tickets = tickets.filter(status="open")
            tickets = tickets.order_by("-id")
            return [t.owner.name for t in tickets]
        """,
        """
        def board(request):
            tickets = Ticket.objects.select_related("owner").only("title", "owner")
            tickets = tickets.filter(status="open")
            tickets = tickets.order_by("-id")
            return [t.owner.name for t in tickets]
        """,
    )


def test_refined_into_an_iterator_is_not_prefetched(tmp_path: Path) -> None:
    _skipped(
        tmp_path,
        """
        def board(request):
            tickets = Ticket.objects.filter(status="open")
            tickets = tickets.iterator()
            return [[c.body for c in t.comments.all()] for t in tickets]
        """,
        "iterator()",
    )


def test_loop_directly_over_the_query(tmp_path: Path) -> None:
    _fixed(
        tmp_path,
        """
        def board(request):
            for t in Ticket.objects.filter(status="open"):
                print(t.owner.name)
        """,
        """
        def board(request):
            for t in Ticket.objects.select_related("owner").filter(status="open"):
                print(t.owner.name)
        """,
    )


def test_an_existing_select_related_is_extended(tmp_path: Path) -> None:
    _fixed(
        tmp_path,
        """
        def board(request):
            tickets = Ticket.objects.filter(status="open").select_related("queue")[:50]
            return [(t.queue.name, t.owner.name) for t in tickets]
        """,
        """
        def board(request):
            tickets = Ticket.objects.filter(status="open").select_related("queue", "owner")[:50]
            return [(t.queue.name, t.owner.name) for t in tickets]
        """,
    )


def test_two_relations_of_one_query_are_one_edit(tmp_path: Path) -> None:
    result = _fixed(
        tmp_path,
        """
        def recent(request):
            comments = Comment.objects.all()[:30]
            return [(c.ticket.title, c.author.name) for c in comments]
        """,
        """
        def recent(request):
            comments = Comment.objects.all().select_related("ticket", "author")[:30]
            return [(c.ticket.title, c.author.name) for c in comments]
        """,
    )
    assert len(result.applied) == 1
    assert len(result.scan.findings) == 2


def test_reverse_foreign_key_gets_prefetch_related(tmp_path: Path) -> None:
    _fixed(
        tmp_path,
        """
        def board(request):
            for t in Ticket.objects.filter(status="open")[:20]:
                print([c.body for c in t.comments.all()])
        """,
        """
        def board(request):
            for t in Ticket.objects.prefetch_related("comments").filter(status="open")[:20]:
                print([c.body for c in t.comments.all()])
        """,
    )


def test_the_next_hop_is_joined_too(tmp_path: Path) -> None:
    _fixed(
        tmp_path,
        """
        def recent(request):
            return [c.ticket.queue.name for c in Comment.objects.order_by("-id")[:30]]
        """,
        """
        def recent(request):
            return [c.ticket.queue.name for c in Comment.objects.select_related("ticket__queue").order_by("-id")[:30]]
        """,
    )


def test_only_names_the_joined_relation_too(tmp_path: Path) -> None:
    # Django raises FieldError for select_related on a field only() defers.
    _fixed(
        tmp_path,
        """
        def board(request):
            return [t.owner.name for t in Ticket.objects.only("title")[:20]]
        """,
        """
        def board(request):
            return [t.owner.name for t in Ticket.objects.select_related("owner").only("title", "owner")[:20]]
        """,
    )


def test_sqlalchemy_gets_selectinload_and_one_import(tmp_path: Path) -> None:
    before = """
        from sqlalchemy import select

        from app.models import Order, User


        def users(session):
            return [len(u.orders) for u in session.scalars(select(User)).all()]


        def orders(session):
            stmt = select(Order).where(Order.id > 1).limit(50)
            return [o.user.id for o in session.scalars(stmt)]
        """
    after = """
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        from app.models import Order, User


        def users(session):
            return [len(u.orders) for u in session.scalars(select(User).options(selectinload(User.orders))).all()]


        def orders(session):
            stmt = select(Order).options(selectinload(Order.user)).where(Order.id > 1).limit(50)
            return [o.user.id for o in session.scalars(stmt)]
        """
    files = {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/api.py": before}
    result = assert_fixed(tmp_path, files, {"app/api.py": after}, **UNSAFE)
    (applied,) = result.applied  # one rewrite per file: the import is added once
    assert "User.orders" in applied.description and "Order.user" in applied.description
    assert not [f for f in result.remaining if f.rule == "SA201"]
    assert_idempotent(tmp_path, **UNSAFE)
    assert not [f for f in scan_tree(tmp_path).findings if f.rule == "SA201"]


def test_sqlalchemy_existing_options_and_import_are_reused(tmp_path: Path) -> None:
    before = """
        from sqlalchemy import select
        from sqlalchemy.orm import Session, joinedload

        from app.models import User


        def users(session: Session):
            stmt = select(User).options(joinedload(User.orders))
            return [u.id for u in session.scalars(stmt).unique()]


        def owners(session: Session):
            return [len(u.orders) for u in session.scalars(select(User).options()).all()]
        """
    after = before.replace("import Session, joinedload", "import Session, joinedload, selectinload")
    after = after.replace("select(User).options())", "select(User).options(selectinload(User.orders)))")
    files = {"app/__init__.py": "", "app/models.py": SA_MODELS, "app/api.py": before}
    assert_fixed(tmp_path, files, {"app/api.py": after}, **UNSAFE)
    assert_idempotent(tmp_path, **UNSAFE)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (
            """
            def board(request, closed):
                tickets = Ticket.objects.filter(status="open")
                tickets = Ticket.objects.filter(status="closed")
                return [t.owner.name for t in tickets]
            """,
            ("assigned 2 times", '.select_related("owner")'),
        ),
        (
            """
            def board(request, flag):
                if flag:
                    tickets = Ticket.objects.filter(status="open")
                return [t.owner.name for t in tickets]
            """,
            ("inside a branch or loop", '.select_related("owner")'),
        ),
        (
            """
            def board(request, tickets=None):
                tickets = Ticket.objects.filter(status="open")
                return [t.owner.name for t in tickets]
            """,
            ("a parameter of `board()`", '.select_related("owner")'),
        ),
        (
            """
            from django.views.generic import ListView


            class Board(ListView):
                queryset = Ticket.objects.all()

                def get_context_data(self, **kw):
                    return {"owners": [t.owner for t in self.get_queryset()]}
            """,
            ("view class", '.select_related("owner")'),
        ),
        (
            """
            def board(request):
                return [t.status for t in Ticket.objects.only("title")]
            """,
            ("not a relation in the model registry",),
        ),
        (
            """
            def board(request):
                return [t.comments.count() for t in Ticket.objects.all()]
            """,
            ('annotate(comments_count=Count("comments"))',),
        ),
        (
            """
            def board(request):
                return [t.owner.name for t in Ticket.objects.open()]
            """,
            ("ends in `open()`", '.select_related("owner")'),
        ),
        (
            """
            def board(request):
                return [t.owner.name for t in Ticket.objects.select_for_update().filter(status="x")]
            """,
            ("select_for_update()",),
        ),
    ],
    ids=["reassigned", "in-branch", "parameter", "view-class", "deferred-field", "count", "custom-manager", "locking"],
)
def test_what_the_fix_cannot_see_is_skipped_with_the_edit_to_make(
    tmp_path: Path, code: str, reason: tuple[str, ...]
) -> None:
    _skipped(tmp_path, code, *reason)


def test_without_unsafe_fixes_nothing_changes(tmp_path: Path) -> None:
    files = _views(
        """
        def board(request):
            for t in Ticket.objects.filter(status="open"):
                print(t.owner.name)
        """
    )
    result = fix_tree(tmp_path, files, select=["SA201"])
    assert not result.changes and not result.applied
    (skip,) = [s for s in result.skipped if s.rule == "SA201"]
    assert "--unsafe-fixes" in skip.reason
    assert (tmp_path / "app/views.py").read_text() == dedent(files)["app/views.py"]
