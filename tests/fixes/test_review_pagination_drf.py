"""Review of the SA302 fix: a pagination class of the view's own module is named only where
it is already bound (a class body runs at import)."""

from __future__ import annotations

from pathlib import Path

from fixtest import dedent, fix_tree, run_python
from test_pagination_drf import DJANGO, FIX, UNSIZED, USER_VIEWS, _tree

PAGES = """

    class TwentyPages(PageNumberPagination):
        page_size = 20
    """
IMPORT = "from rest_framework.pagination import PageNumberPagination\n"


def _views(paginator_first: bool) -> str:
    views = dedent({"v": USER_VIEWS})["v"].replace("from rest_framework import", IMPORT + "from rest_framework import")
    head, _, classes = views.partition("\n\nclass ")
    pages = dedent({"p": PAGES})["p"].rstrip("\n")
    if paginator_first:
        return f"{head}{pages}\n\n\nclass {classes}"
    return f"{views}{pages}\n"


def test_a_module_paginator_defined_below_the_view_is_not_named_in_it(tmp_path: Path) -> None:
    # `pagination_class = TwentyPages` above `class TwentyPages` raised NameError on import.
    files = _tree(_views(paginator_first=False), UNSIZED)
    result = fix_tree(tmp_path, files, **FIX)
    assert not result.changes
    (skip,) = [s for s in result.skipped if s.rule == "SA302"]
    assert skip.reason.startswith("`TwentyPages` is defined below `UserViewSet` (line "), skip.reason
    assert "move `TwentyPages` above the view and add `pagination_class = TwentyPages`" in skip.reason


def test_a_module_paginator_defined_above_the_view_is_named_and_pages(tmp_path: Path) -> None:
    result = fix_tree(tmp_path, _tree(_views(paginator_first=True), UNSIZED), **FIX)
    assert len(result.applied) == 1, result.skipped
    assert "    pagination_class = TwentyPages\n" in (tmp_path / "app/api.py").read_text()
    run_python(tmp_path, DJANGO + 'page = get()\nassert page["count"] == 250 and len(page["results"]) == 20\n')
