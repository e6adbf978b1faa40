"""Review of the SA205 admin fix: a `list_select_related` Django never reads is not written."""

from __future__ import annotations

from pathlib import Path

from fixtest import dedent, fix_tree
from test_nplusone_loop import MODELS

ADMIN = """
    from django.contrib import admin

    from app.models import Ticket


    @admin.register(Ticket)
    class TicketAdmin(admin.ModelAdmin):
        list_display = ("title", "owner_name")

        def get_list_select_related(self, request):
            return ("queue",)

        def owner_name(self, obj):
            return obj.owner.name
    """


def test_an_admin_that_overrides_get_list_select_related_is_skipped(tmp_path: Path) -> None:
    # ModelAdmin.get_changelist_instance() reads only get_list_select_related(): the attribute
    # the fix added was dead code, and the finding was reported fixed.
    files = {"app/__init__.py": "", "app/models.py": MODELS, "app/admin.py": ADMIN}
    result = fix_tree(tmp_path, files, unsafe=True, select=["SA205"])
    assert not result.changes
    assert (tmp_path / "app/admin.py").read_text() == dedent(files)["app/admin.py"]
    (skip,) = [s for s in result.skipped if s.rule == "SA205"]
    assert skip.reason == "`TicketAdmin` overrides `get_list_select_related()`: add 'owner' to what it returns"
