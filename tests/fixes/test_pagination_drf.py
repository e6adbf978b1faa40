"""SA302 fix (unsafe): a `pagination_class` that really pages on an unpaginated DRF list view."""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import scan_tree, write_tree
from fixtest import assert_fixed, assert_idempotent, dedent, fix_tree, run_python

from scaleaudit.fixes.base import FixResult
from scaleaudit.fixes.pagination_drf import GENERATED
from scaleaudit.fixes.paging import DEFAULT_LIMIT, MAX_LIMIT

FIX = {"select": ["SA302"], "unsafe": True}
SIZED = 'REST_FRAMEWORK = {"PAGE_SIZE": 50}\n'
UNSIZED = 'REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": []}\n'
VIEWS = textwrap.dedent(
    """
    from rest_framework import viewsets

    from app.models import Comment, Ticket
    from app.serializers import CommentSerializer, TicketSerializer


    class TicketViewSet(viewsets.ModelViewSet):
        queryset = Ticket.objects.order_by("-id")
        serializer_class = TicketSerializer

        def perform_create(self, serializer):
            serializer.save()
    """
).lstrip()


def _tree(views: str, settings: str = SIZED, **extra: str) -> dict[str, str]:
    return {"proj/__init__.py": "", "proj/settings.py": settings, "app/__init__.py": "", "app/api.py": views, **extra}


def _sa302(root: Path) -> list[tuple[str, int]]:
    return [(f.path, f.line) for f in scan_tree(root, select=("SA302",)).findings]


def _reasons(result: FixResult) -> list[str]:
    return [s.reason for s in result.skipped if s.rule == "SA302"]


def test_with_page_size_set_drfs_page_number_pagination_is_named_and_imported(tmp_path: Path) -> None:
    after = VIEWS.replace(
        "from rest_framework import viewsets\n",
        "from rest_framework import viewsets\nfrom rest_framework.pagination import PageNumberPagination\n",
    ).replace(
        "    serializer_class = TicketSerializer\n",
        "    serializer_class = TicketSerializer\n    pagination_class = PageNumberPagination\n",
    )
    assert _sa302(write_tree(tmp_path, dedent(_tree(VIEWS)))) == [("app/api.py", 7)]
    result = assert_fixed(tmp_path, _tree(VIEWS), {"app/api.py": after}, **FIX)
    (applied,) = result.applied
    assert "PAGE_SIZE" in applied.description and "cannot enlarge" in applied.description
    assert _sa302(tmp_path) == []
    assert_idempotent(tmp_path, **FIX)


def test_an_existing_pagination_import_is_extended(tmp_path: Path) -> None:
    views = VIEWS.replace(
        "from rest_framework import viewsets\n",
        "from rest_framework import viewsets\nfrom rest_framework.pagination import CursorPagination\n",
    )
    after = views.replace("import CursorPagination\n", "import CursorPagination, PageNumberPagination\n").replace(
        "    serializer_class = TicketSerializer\n",
        "    serializer_class = TicketSerializer\n    pagination_class = PageNumberPagination\n",
    )
    assert_fixed(tmp_path, _tree(views), {"app/api.py": after}, **FIX)


def test_without_page_size_one_bounded_subclass_is_written_for_every_view_of_the_module(tmp_path: Path) -> None:
    views = VIEWS + textwrap.dedent(
        '''

        class CommentList(generics.ListAPIView):
            """Every comment, newest first."""

            def get_queryset(self):
                return Comment.objects.order_by("-id")
        '''
    )
    views = views.replace("from rest_framework import viewsets", "from rest_framework import generics, viewsets")
    after = textwrap.dedent(
        f'''
        from rest_framework import generics, viewsets
        from rest_framework.pagination import LimitOffsetPagination

        from app.models import Comment, Ticket
        from app.serializers import CommentSerializer, TicketSerializer


        class {GENERATED}(LimitOffsetPagination):
            # LimitOffsetPagination alone returns every row when a request has no ?limit= and
            # PAGE_SIZE is unset, and never caps ?limit=: both bounds are set here.
            default_limit = {DEFAULT_LIMIT}
            max_limit = {MAX_LIMIT}


        class TicketViewSet(viewsets.ModelViewSet):
            queryset = Ticket.objects.order_by("-id")
            serializer_class = TicketSerializer
            pagination_class = {GENERATED}

            def perform_create(self, serializer):
                serializer.save()


        class CommentList(generics.ListAPIView):
            """Every comment, newest first."""
            pagination_class = {GENERATED}

            def get_queryset(self):
                return Comment.objects.order_by("-id")
        '''
    ).lstrip()
    result = assert_fixed(tmp_path, _tree(views, UNSIZED), {"app/api.py": after}, **FIX)
    (applied,) = result.applied  # one proposal per module, resolving both findings
    assert "would return every row" in applied.description
    assert _sa302(tmp_path) == []
    assert_idempotent(tmp_path, **FIX)


def test_the_projects_own_pagination_class_is_reused_and_imported(tmp_path: Path) -> None:
    pagination = textwrap.dedent(
        """
        from rest_framework.pagination import PageNumberPagination


        class StandardPagination(PageNumberPagination):
            page_size = 25
            page_size_query_param = "size"
            max_page_size = 100
        """
    ).lstrip()
    after = VIEWS.replace(
        "from app.models import Comment, Ticket\n",
        "from app.models import Comment, Ticket\nfrom app.pagination import StandardPagination\n",
    ).replace(
        "    serializer_class = TicketSerializer\n",
        "    serializer_class = TicketSerializer\n    pagination_class = StandardPagination\n",
    )
    tree = _tree(VIEWS, UNSIZED, **{"app/pagination.py": pagination})
    result = assert_fixed(tmp_path, tree, {"app/api.py": after, "app/pagination.py": pagination}, **FIX)
    (applied,) = result.applied
    assert "the project's own `StandardPagination` (app/pagination.py:4)" in applied.description
    run_python(tmp_path, "import ast, pathlib; ast.parse(pathlib.Path('app/api.py').read_text())")
    assert_idempotent(tmp_path, **FIX)


def test_a_project_class_in_the_same_module_needs_no_import(tmp_path: Path) -> None:
    views = VIEWS.replace(
        "from rest_framework import viewsets\n",
        "from rest_framework import pagination, viewsets\n",
    ).replace(
        "\n\nclass TicketViewSet",
        "\n\nclass Pages(pagination.LimitOffsetPagination):\n    default_limit = 20\n    max_limit = 100\n\n\n"
        "class TicketViewSet",
    )
    after = views.replace(
        "    serializer_class = TicketSerializer\n",
        "    serializer_class = TicketSerializer\n    pagination_class = Pages\n",
    )
    assert_fixed(tmp_path, _tree(views, UNSIZED), {"app/api.py": after}, **FIX)


def test_project_classes_that_do_not_page_by_themselves_are_not_reused(tmp_path: Path) -> None:
    pagination = textwrap.dedent(
        """
        from rest_framework.pagination import CursorPagination, LimitOffsetPagination, PageNumberPagination


        class OptionalPages(LimitOffsetPagination):
            default_limit = 10

            def paginate_queryset(self, queryset, request, view=None):
                if "limit" not in request.query_params:
                    return None
                return super().paginate_queryset(queryset, request, view)


        class ByCreated(CursorPagination):
            page_size = 10
            ordering = "-created"


        class UnsizedPages(PageNumberPagination):
            page_size_query_param = "size"
        """
    ).lstrip()
    tree = _tree(VIEWS, UNSIZED, **{"app/pagination.py": pagination})
    result = fix_tree(tmp_path, tree, **FIX)
    (applied,) = result.applied
    assert f"pagination_class = {GENERATED}" in applied.description
    assert applied.description.endswith(
        "not reused: ByCreated (a CursorPagination: its ordering is one model's), "
        "OptionalPages (overrides paginate_queryset), UnsizedPages (no page size)"
        "; the list response becomes one page with count/next"
    )
    assert (tmp_path / "app/pagination.py").read_text() == pagination


def test_views_paged_by_settings_or_explicitly_unpaged_are_left_byte_identical(tmp_path: Path) -> None:
    paged = 'REST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination"}\n'
    result = assert_fixed(tmp_path / "settings", _tree(VIEWS, paged), {"app/api.py": VIEWS}, **FIX)
    assert not result.changes and not [f for f in result.scan.findings if f.rule == "SA302"]
    unpaged = VIEWS.replace(
        "    serializer_class = TicketSerializer\n",
        "    serializer_class = TicketSerializer\n    pagination_class = None\n",
    )
    result = assert_fixed(tmp_path / "none", _tree(unpaged), {"app/api.py": unpaged}, **FIX)
    assert not result.changes and not [f for f in result.scan.findings if f.rule == "SA302"]


def test_a_name_taken_by_something_else_is_skipped_with_the_edit_to_make(tmp_path: Path) -> None:
    taken = "from rest_framework import viewsets\n\nfrom app.x import LimitOffsetPagination\n"
    views = VIEWS.replace("from rest_framework import viewsets\n", taken)
    result = assert_fixed(tmp_path, _tree(views, UNSIZED), {"app/api.py": views}, **FIX)
    assert not result.changes
    (reason,) = _reasons(result)
    assert reason.startswith(
        "`LimitOffsetPagination` names something else in this module: set `pagination_class` by hand"
    )
    assert f"a new {GENERATED} (default_limit=50, max_limit=200)" in reason


def test_without_unsafe_nothing_changes(tmp_path: Path) -> None:
    result = assert_fixed(tmp_path, _tree(VIEWS), {"app/api.py": VIEWS}, select=["SA302"])
    assert not result.changes
    (reason,) = _reasons(result)
    assert "--unsafe-fixes" in reason


# --- the fixed view, for real -------------------------------------------------------

DJANGO = textwrap.dedent(
    """
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "rest_framework"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        REST_FRAMEWORK={},
        ALLOWED_HOSTS=["testserver"],
    )
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from rest_framework.test import APIRequestFactory

    call_command("migrate", verbosity=0)
    User.objects.bulk_create([User(username=f"u{n}") for n in range(250)])
    from app.api import UserViewSet

    view = UserViewSet.as_view({"get": "list"})
    get = lambda query="": view(APIRequestFactory().get("/users/" + query)).data
    """
)
USER_VIEWS = """
    from django.contrib.auth.models import User
    from rest_framework import serializers, viewsets


    class UserSerializer(serializers.ModelSerializer):
        class Meta:
            model = User
            fields = ["id", "username"]


    class UserViewSet(viewsets.ReadOnlyModelViewSet):
        queryset = User.objects.order_by("id")
        serializer_class = UserSerializer
    """


def test_the_fixed_view_pages_and_caps_its_list(tmp_path: Path) -> None:
    files = _tree(USER_VIEWS, UNSIZED)
    write_tree(tmp_path / "before", dedent(files))
    run_python(tmp_path / "before", DJANGO + "assert len(get()) == 250\n")
    result = fix_tree(tmp_path / "after", files, **FIX)
    assert len(result.applied) == 1
    checks = f"""
        page = get()
        assert page["count"] == 250 and len(page["results"]) == {DEFAULT_LIMIT}, page.keys()
        assert [u["username"] for u in get("?limit=2&offset=2")["results"]] == ["u2", "u3"]
        assert len(get("?limit=100000")["results"]) == {MAX_LIMIT}
        """
    run_python(tmp_path / "after", DJANGO + textwrap.dedent(checks))
