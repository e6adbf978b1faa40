"""The model registry and the ORM syntax helpers it is built from."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from conftest import write_tree

from scaleaudit import api
from scaleaudit.model import Confidence
from scaleaudit.project.models import Registry
from scaleaudit.python.imports import ImportTable
from scaleaudit.python.orm import parse_query, unbounded_select

DJANGO = """\
from django.db import models

class Stamped(models.Model):
    created = models.DateTimeField(db_index=True)
    class Meta:
        abstract = True

class Team(models.Model):
    name = models.CharField(max_length=9)

class Member(Stamped):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    profile = models.OneToOneField("Profile", on_delete=models.CASCADE)
    mentor = models.ForeignKey("self", null=True, on_delete=models.SET_NULL, db_column="mentor_ref")
    groups = models.ManyToManyField("Group")
    email = models.EmailField()
    class Meta:
        db_table = "people"
        unique_together = [("team", "email")]

class Profile(models.Model):
    bio = models.TextField()

class Group(models.Model):
    name = models.SlugField()
"""

SQLA = """\
from sqlalchemy import Column, ForeignKey, Integer, String, Index
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

class Base(DeclarativeBase):
    pass

class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    books: Mapped[list["Book"]] = relationship(back_populates="author", lazy="selectin")

class Book(Base):
    __tablename__ = "books"
    id = Column(Integer, primary_key=True)
    author_id = Column("writer", ForeignKey("authors.id"))
    isbn = Column(String, unique=True)
    title = Column(String, index=True)
    author = relationship("Author", back_populates="books")
    __table_args__ = (Index("ix_books_title_isbn", "title", "isbn"),)
"""


def _registry(tmp_path: Path, files: dict[str, str]) -> Registry:
    write_tree(tmp_path, files)
    settings = api.settings_for([tmp_path], isolated=True, min_confidence=Confidence.LOW)
    result = api.scan([tmp_path], settings, use_cache=False)
    return Registry.of(result.facts, sorted(files))


def test_django_models_columns_indexes_and_reverse_accessors(tmp_path: Path) -> None:
    reg = _registry(tmp_path, {"people/__init__.py": "", "people/models.py": DJANGO})
    member, team = reg.resolve("Member"), reg.resolve("Team")
    assert member is not None and team is not None
    assert member.table == "people" and team.table == "people_team"
    assert member.column("team") == "team_id" and member.column("mentor") == "mentor_ref"
    assert member.covered("team_id") and member.covered("profile_id") and member.covered("id")
    assert not member.covered("email")
    assert member.covered("created"), "inherited from the abstract base"
    assert team.relations["members"].kind == "reverse-fk"
    assert team.relations["members"].lookup == ("Member", "team_id")
    assert reg.resolve("Profile").relations["member"].kind == "reverse-o2o"  # type: ignore[union-attr]
    assert reg.resolve("Group").relations["member_set"].kind == "reverse-m2m"  # type: ignore[union-attr]
    assert member.relations["groups"].kind == "m2m" and member.relations["mentor"].target == "Member"
    assert reg.resolve("Group").covered("name")  # type: ignore[union-attr]  # SlugField: db_index by default


def test_sqlalchemy_models_both_styles(tmp_path: Path) -> None:
    reg = _registry(tmp_path, {"lib/__init__.py": "", "lib/models.py": SQLA})
    book, author = reg.resolve("Book"), reg.resolve("Author")
    assert book is not None and author is not None
    assert book.column("author_id") == "writer" and not book.covered("writer")
    assert book.covered("isbn") and book.covered("title")
    writer = book.field("writer")
    assert writer is not None and writer["fk_table"] == "authors" and writer["indexed"] is False
    assert author.relations["books"].lazy == "selectin" and author.relations["books"].many
    assert author.relations["books"].lookup == ("Book", "writer")
    assert not book.relations["author"].many


def test_ambiguous_names_resolve_through_the_import(tmp_path: Path) -> None:
    files = {
        "a/__init__.py": "",
        "a/models.py": "from django.db import models\nclass Item(models.Model):\n    x = models.IntegerField()\n",
        "b/__init__.py": "",
        "b/models.py": "from django.db import models\nclass Item(models.Model):\n    y = models.IntegerField()\n",
    }
    reg = _registry(tmp_path, files)
    assert reg.resolve("Item") is None
    found = reg.resolve("Item", "b.models.Item")
    assert found is not None and found.field("y") is not None


def _query(code: str) -> tuple[bool, bool, tuple[str, ...], tuple[str, ...]]:
    table = ImportTable("app.views")
    table.bindings.update({"select": "sqlalchemy.select", "selectinload": "sqlalchemy.orm.selectinload"})
    query = parse_query(cst.parse_expression(code), table)
    assert query is not None, code
    return query.bounded, query.rows, query.select_related, query.prefetch


def test_parse_query_reads_loading_and_bounds() -> None:
    assert _query("Ticket.objects.filter(a=1).select_related('owner__team')[:20]") == (True, True, ("owner",), ())
    assert _query("Ticket.objects.prefetch_related(Prefetch('notes', to_attr='n'))") == (False, True, (), ("n", "notes"))
    assert _query("Ticket.objects.values('id')")[1] is False
    assert _query("s.scalars(select(User).options(selectinload(User.orders)).limit(5))")[0::3] == (True, ("orders",))
    assert _query("s.execute(select(User))")[1] is False
    assert _query("s.query(User).filter(User.id > 1).first()")[0] is True


def test_unbounded_select_is_conservative() -> None:
    assert unbounded_select("SELECT id FROM t WHERE a = %s")
    assert unbounded_select("select a, b from t join u on u.id = t.u")
    for bounded in ("select count(*) from t", "select 1", "select a from t limit 5", "select a, count(*) from t group by a",
                    "delete from t", "this is not sql ((("):  # fmt: skip
        assert not unbounded_select(bounded), bounded


def test_django_default_table_names_come_from_the_app_not_the_models_package(tmp_path: Path) -> None:
    """NetBox keeps models in `extras/models/models.py`: the table is `extras_…`, not `models_…`."""
    model = "from django.db import models\n\n\nclass {name}(models.Model):\n    title = models.CharField()\n{meta}"
    reg = _registry(
        tmp_path,
        {
            "extras/__init__.py": "",
            "extras/models/__init__.py": "",
            "extras/models/models.py": model.format(name="ImageAttachment", meta=""),
            "extras/models/tags.py": model.format(name="Tag", meta=""),
            "shop/models.py": model.format(name="Order", meta=""),
            "shared/models.py": model.format(name="Note", meta="\n    class Meta:\n        app_label = 'notes'\n"),
        },
    )
    tables = {name: reg.resolve(name).table for name in ("ImageAttachment", "Tag", "Order", "Note")}  # type: ignore[union-attr]
    assert tables == {
        "ImageAttachment": "extras_imageattachment",
        "Tag": "extras_tag",
        "Order": "shop_order",
        "Note": "notes_note",
    }
