"""SA204/SA205 fixes: the serialized queryset and the admin changelist load what each row reads."""

from __future__ import annotations

from pathlib import Path

from conftest import scan_tree
from fixtest import assert_fixed, assert_idempotent, dedent, fix_tree
from test_nplusone_loop import MODELS  # one Django model set for the N+1 fix tests

SERIALIZERS = """
    from rest_framework import serializers

    from app.models import Ticket


    class TicketSerializer(serializers.ModelSerializer):
        owner_name = serializers.CharField(source="owner.name")
        customer_name = serializers.CharField(source="customer.name")

        class Meta:
            model = Ticket
            fields = ["id", "owner_name", "customer_name", "tags"]
    """
API_HEAD = """
    from rest_framework import viewsets
    from rest_framework.decorators import api_view
    from rest_framework.response import Response

    from app.models import Ticket
    from app.serializers import TicketSerializer
    """
SERIALIZER_RULES = {"unsafe": True, "select": ["SA204"]}
ADMIN_RULES = {"unsafe": True, "select": ["SA205"]}


def _api(body: str) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/models.py": MODELS,
        "app/serializers.py": SERIALIZERS,
        "app/api.py": API_HEAD + body,
    }


def _rules(root: Path, rule: str) -> list[str]:
    return [f"{f.path}:{f.line}" for f in scan_tree(root).findings if f.rule == rule]


def test_viewset_queryset_loads_every_relation_the_serializer_reads_in_one_edit(tmp_path: Path) -> None:
    before = """

    class TicketViewSet(viewsets.ModelViewSet):
        queryset = Ticket.objects.order_by("-id")
        serializer_class = TicketSerializer
    """
    after = before.replace(
        'Ticket.objects.order_by("-id")',
        'Ticket.objects.select_related("owner", "customer").prefetch_related("tags").order_by("-id")',
    )
    result = assert_fixed(tmp_path, _api(before), {"app/api.py": API_HEAD + after}, **SERIALIZER_RULES)
    (applied,) = result.applied
    assert applied.path == "app/serializers.py"  # reported at the serializer, fixed in the view
    assert len(result.scan.findings) == 3
    assert_idempotent(tmp_path, **SERIALIZER_RULES)
    assert not _rules(tmp_path, "SA204")


def test_get_queryset_return_and_a_function_view_are_edited(tmp_path: Path) -> None:
    before = """

    class TicketViewSet(viewsets.ModelViewSet):
        serializer_class = TicketSerializer

        def get_queryset(self):
            return Ticket.objects.filter(owner=self.request.user).select_related("owner")


    @api_view(["GET"])
    def tickets(request):
        qs = Ticket.objects.filter(title="x")[:50]
        return Response(TicketSerializer(qs, many=True).data)
    """
    after = before.replace(
        '.select_related("owner")', '.select_related("owner", "customer").prefetch_related("tags")'
    ).replace(
        'qs = Ticket.objects.filter(title="x")[:50]',
        'qs = Ticket.objects.select_related("owner", "customer").prefetch_related("tags").filter(title="x")[:50]',
    )
    # A finding names one queryset; every queryset the serializer lists gets the relation.
    assert_fixed(tmp_path, _api(before), {"app/api.py": API_HEAD + after}, **SERIALIZER_RULES)
    assert_idempotent(tmp_path, **SERIALIZER_RULES)
    assert not _rules(tmp_path, "SA204")


def test_serialized_queryset_from_a_reassigned_name_is_skipped(tmp_path: Path) -> None:
    before = """

    @api_view(["GET"])
    def tickets(request):
        qs = Ticket.objects.all()
        qs = Ticket.objects.filter(title="x")
        return Response(TicketSerializer(qs, many=True).data)
    """
    files = _api(before)
    result = fix_tree(tmp_path, files, **SERIALIZER_RULES)
    assert not result.changes
    assert (tmp_path / "app/api.py").read_text() == dedent(files)["app/api.py"]
    skips = [s for s in result.skipped if s.rule == "SA204"]
    assert len(skips) == 3
    assert all("assigned 2 times" in s.reason and "app/api.py:" in s.reason for s in skips)
    assert any('.select_related("owner")' in s.reason for s in skips)


ADMIN = """
    from django.contrib import admin

    from app.models import Ticket


    @admin.register(Ticket)
    class TicketAdmin(admin.ModelAdmin):
        list_display = ("title", "owner_name", "customer_name", "comment_count")
    {settings}
        def owner_name(self, obj):
            return obj.owner.name

        def customer_name(self, obj):
            return obj.customer.name

        def comment_count(self, obj):
            return obj.comments.count()
    """


def _admin(settings: str) -> dict[str, str]:
    return {"app/__init__.py": "", "app/models.py": MODELS, "app/admin.py": _admin_py(settings)}


def _admin_py(settings: str) -> str:
    """The admin module with class-level `settings` (written at the class body's indentation)."""
    lines = settings.splitlines()  # the template indents the first line by 4; the class body is 8 deep
    return ADMIN.format(settings="".join(f"{' ' * (4 if i == 0 else 8)}{line}\n" for i, line in enumerate(lines)))


def test_admin_gets_list_select_related_and_counts_are_left_with_the_edit(tmp_path: Path) -> None:
    after = _admin_py('list_select_related = ("owner", "customer")')
    result = assert_fixed(tmp_path, _admin(""), {"app/admin.py": after}, **ADMIN_RULES)
    (applied,) = result.applied
    assert "owner, customer" in applied.description
    (skip,) = [s for s in result.skipped if s.rule == "SA205"]
    assert 'annotate(comments_count=Count("comments"))' in skip.reason and "get_queryset" in skip.reason
    assert_idempotent(tmp_path, **ADMIN_RULES)
    count_line = dedent({"a": after})["a"].splitlines().index("        return obj.comments.count()") + 1
    assert _rules(tmp_path, "SA205") == [f"app/admin.py:{count_line}"]


def test_admin_list_select_related_is_extended_in_its_layout(tmp_path: Path) -> None:
    before = 'list_select_related = [\n    "owner",\n]'
    after = 'list_select_related = [\n    "owner",\n    "customer",\n]'
    assert_fixed(tmp_path, _admin(before), {"app/admin.py": _admin_py(after)}, **ADMIN_RULES)
    assert_idempotent(tmp_path, **ADMIN_RULES)


def test_admin_one_tuple_and_false(tmp_path: Path) -> None:
    after = _admin_py('list_select_related = ("owner", "customer")')
    assert_fixed(tmp_path, _admin('list_select_related = ("owner",)'), {"app/admin.py": after}, **ADMIN_RULES)
    assert_fixed(tmp_path / "f", _admin("list_select_related = False"), {"app/admin.py": after}, **ADMIN_RULES)


def test_admin_list_select_related_from_a_name_is_skipped(tmp_path: Path) -> None:
    files = _admin("list_select_related = RELATED")
    result = fix_tree(tmp_path, files, **ADMIN_RULES)
    assert not result.changes
    reasons = [s.reason for s in result.skipped if s.rule == "SA205"]
    assert any("cannot extend" in r and "list_select_related = ('owner', 'customer',)" in r for r in reasons)


def test_without_unsafe_fixes_nothing_changes(tmp_path: Path) -> None:
    files = _admin("")
    result = fix_tree(tmp_path, files, select=["SA205"])
    assert not result.changes
    assert all("--unsafe-fixes" in s.reason for s in result.skipped if s.rule == "SA205")
    assert (tmp_path / "app/admin.py").read_text() == dedent(files)["app/admin.py"]
