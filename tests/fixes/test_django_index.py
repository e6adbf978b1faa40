"""SA401/SA402 fix on Django models: a named Meta.indexes entry, and with --migrations the
AddIndexConcurrently migration — proven by running it against the real PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import write_tree
from fixtest import assert_fixed, assert_idempotent, dedent, fix_tree
from throwaway_db import throwaway_database, url

from scaleaudit import api
from scaleaudit.config import FixSettings
from scaleaudit.fixes import django_index
from scaleaudit.fixes.api import run_fix
from scaleaudit.fixes.base import UNSAFE_REASON
from scaleaudit.fixes.django_index import MAX_NAME, index_name

VIEWS = """
    from shop.models import Order


    def mine(request):
        return list(Order.objects.filter(user=request.user)[:10])


    def by_email(request):
        return Order.objects.filter(email=request.GET["e"]).first()
    """
HEAD = """
    from django.db import models


    class Order(models.Model):
        user = models.ForeignKey("auth.User", on_delete=models.CASCADE, db_index=False)
        email = models.CharField(max_length=100)
    """
BOTH = ["SA401", "SA402"]
MIGRATE = {"fix": FixSettings(migrations=True)}


def _tree(models: str, **extra: str) -> dict[str, str]:
    return {"shop/__init__.py": "", "shop/models.py": models, "shop/views.py": VIEWS, **extra}


def test_meta_is_created_at_the_end_of_the_class_with_both_indexes(tmp_path: Path) -> None:
    models = (
        HEAD
        + """
        def __str__(self):
            return self.email
    """
    )
    after = (
        HEAD
        + """
        def __str__(self):
            return self.email

        class Meta:
            indexes = [
                models.Index(fields=["user"], name="shop_order_user_id_idx"),
                models.Index(fields=["email"], name="shop_order_email_idx"),
            ]
    """
    )
    result = assert_fixed(tmp_path, _tree(models), {"shop/models.py": after}, select=BOTH, unsafe=True)
    assert {a.rule for a in result.applied} == {"SA401"}  # one proposal per model resolves both findings
    (applied,) = result.applied
    assert 'CREATE INDEX CONCURRENTLY "shop_order_email_idx" ON "shop_order" ("email");' in applied.description
    assert not [s for s in result.skipped if s.rule in BOTH]
    assert_idempotent(tmp_path, select=BOTH, unsafe=True)


def test_without_unsafe_fixes_django_models_are_untouched(tmp_path: Path) -> None:
    result = assert_fixed(tmp_path, _tree(HEAD), {"shop/models.py": HEAD}, select=BOTH)
    assert not result.applied
    reasons = {s.rule: s.reason for s in result.skipped if s.path == "shop/models.py"}
    assert reasons == {"SA401": UNSAFE_REASON, "SA402": UNSAFE_REASON}


def test_existing_lists_and_tuples_are_extended_in_their_layout(tmp_path: Path) -> None:
    pair = 'models.Index(fields=["id", "email"], name="pair_idx")'
    user = 'models.Index(fields=["user"], name="shop_order_user_id_idx")'
    vertical = (
        HEAD
        + f"""
        class Meta:
            ordering = ["email"]
            indexes = [
                {pair},
            ]
    """
    )
    vertical_after = (
        HEAD
        + f"""
        class Meta:
            ordering = ["email"]
            indexes = [
                {pair},
                {user},
            ]
    """
    )
    assert_fixed(tmp_path / "a", _tree(vertical), {"shop/models.py": vertical_after}, select=["SA401"], unsafe=True)
    inline = (
        HEAD
        + f"""
        class Meta:
            indexes = ({pair},)
    """
    )
    # appended on its line, that line would pass 88 columns: one index per line instead
    inline_after = (
        HEAD
        + f"""
        class Meta:
            indexes = (
                {pair},
                {user},
            )
    """
    )
    assert_fixed(tmp_path / "b", _tree(inline), {"shop/models.py": inline_after}, select=["SA401"], unsafe=True)
    assert_idempotent(tmp_path / "b", select=["SA401"], unsafe=True)
    short = HEAD.replace("models\n", "models\n    from django.db.models import Index\n", 1) + """
        class Meta:
            indexes = []
    """  # fmt: skip
    short_after = short.replace("[]", '[Index(fields=["user"], name="shop_order_user_id_idx")]')  # fits: stays inline
    assert_fixed(tmp_path / "c", _tree(short), {"shop/models.py": short_after}, select=["SA401"], unsafe=True)


def test_comments_stay_on_their_lines(tmp_path: Path) -> None:
    """As seen on NetBox: the comment of the last line belongs to the closing bracket in libcst."""
    models = (
        HEAD
        + """
        class Meta:
            indexes = (  # by hand
                models.Index(fields=("id", "email")),  # Default ordering
                models.Index(fields=("email", "id")),  # Search
            )
    """
    )
    after = (
        HEAD
        + """
        class Meta:
            indexes = (  # by hand
                models.Index(fields=("id", "email")),  # Default ordering
                models.Index(fields=("email", "id")),  # Search
                models.Index(fields=("user",), name="shop_order_user_id_idx"),
            )
    """
    )
    assert_fixed(tmp_path, _tree(models), {"shop/models.py": after}, select=["SA401"], unsafe=True)


def test_the_new_index_is_written_in_the_house_style() -> None:
    """NetBox writes `fields=('name', 'id')` with single quotes: so does the line the fix adds."""
    netbox = "class Meta:\n    indexes = (\n        models.Index(fields=('name', 'id')),\n    )\n"
    assert django_index._house_style(netbox) == ("'", True)
    assert django_index.index_code("models.Index", "action", "core_x_idx", *django_index._house_style(netbox)) == (
        "models.Index(fields=('action',), name='core_x_idx')"
    )
    assert django_index._house_style("x = models.CharField(max_length=9, default='a', help_text='b')\n") == ("'", False)
    assert django_index._house_style('x = f(a="b")\ny = \'c\'\n"""doc"""\n') == ('"', False)


def test_meta_without_indexes_gets_them_and_the_from_import_alias_is_used(tmp_path: Path) -> None:
    models = """
        from django.db.models import CASCADE, CharField, ForeignKey, Model


        class Order(Model):
            user = ForeignKey("auth.User", on_delete=CASCADE, db_index=False)
            email = CharField(max_length=100)

            class Meta:
                ordering = ["email"]
        """
    after = """
        from django.db.models import CASCADE, CharField, ForeignKey, Model, Index


        class Order(Model):
            user = ForeignKey("auth.User", on_delete=CASCADE, db_index=False)
            email = CharField(max_length=100)

            class Meta:
                ordering = ["email"]
                indexes = [
                    Index(fields=["user"], name="shop_order_user_id_idx"),
                ]
        """
    assert_fixed(tmp_path, _tree(models), {"shop/models.py": after}, select=["SA401"], unsafe=True)
    assert_idempotent(tmp_path, select=["SA401"], unsafe=True)


@pytest.mark.parametrize(
    ("meta", "says"),
    [
        ("indexes = BASE_INDEXES", "Meta.indexes is `BASE_INDEXES`, not a list literal"),
        ("indexes = [models.Index(fields=['id'], name='a')] + EXTRA", "not a list literal"),
        ("indexes = [*EXTRA]", "not a list literal"),
        ("managed = False", "unmanaged model"),
        ("proxy = True", "proxy model"),
    ],
)
def test_meta_that_cannot_be_extended_safely_is_skipped_with_the_edit(tmp_path: Path, meta: str, says: str) -> None:
    models = HEAD + f"\n        class Meta:\n            {meta}\n"
    result = assert_fixed(tmp_path, _tree(models), {"shop/models.py": models}, select=["SA401"], unsafe=True)
    (skip,) = [s for s in result.skipped if s.rule == "SA401"]
    assert says in skip.reason, skip.reason
    if "literal" in says:  # the edit to make, in the quotes the module's strings use
        quote = "'" if "'" in meta else '"'
        edit = 'models.Index(fields=["user"], name="shop_order_user_id_idx")'.replace('"', quote)
        assert edit in skip.reason, skip.reason


def test_inherited_meta_is_never_replaced(tmp_path: Path) -> None:
    models = """
        from django.db import models


        class Stamped(models.Model):
            email = models.CharField(max_length=100)

            class Meta:
                abstract = True
                ordering = ["email"]


        class Order(Stamped):
            user = models.ForeignKey("auth.User", on_delete=models.CASCADE, db_index=False)


        class Line(models.Model):
            order = models.ForeignKey(Order, on_delete=models.CASCADE, db_index=False)

            class Meta(Stamped.Meta):
                abstract = False
        """
    views = VIEWS + "\n\n    def lines(request, o):\n        return list(Line.objects.filter(order=o)[:10])\n"
    views = views.replace("import Order", "import Line, Order")
    result = assert_fixed(
        tmp_path, _tree(models, **{"shop/views.py": views}), {"shop/models.py": models}, select=BOTH, unsafe=True
    )
    reasons = sorted(s.reason for s in result.skipped if s.rule in BOTH)
    # Order: a new `class Meta:` would drop the abstract parent's ordering. Line: a new
    # `indexes` would drop the inherited ones. The abstract model itself has no finding.
    assert any("may inherit Meta from Stamped" in r and "class Meta(Stamped.Meta):" in r for r in reasons), reasons
    assert any("Meta inherits from Stamped.Meta" in r and "*Stamped.Meta.indexes" in r for r in reasons), reasons
    assert all("Stamped" in r for r in reasons)


def test_names_fit_djangos_limit_and_avoid_names_in_use(tmp_path: Path) -> None:
    long = index_name("inventory_warehouselocation", "last_counted_at", set())
    assert len(long) <= MAX_NAME and long[0].isalpha() and long.endswith("_idx")
    assert long == index_name("inventory_warehouselocation", "last_counted_at", set())  # deterministic
    assert index_name("shop_order", "email", set()) == "shop_order_email_idx"
    other = index_name("shop_order", "email", {"shop_order_email_idx"})
    assert other != "shop_order_email_idx" and len(other) <= MAX_NAME
    assert index_name("1table", "x", set())[0].isalpha()
    # The taken name lives in another model of the project: the fix picks the other one.
    models = (
        HEAD.replace("db_index=False", "db_index=True")
        + """

    class Other(models.Model):
        code = models.CharField(max_length=9)

        class Meta:
            indexes = [models.Index(fields=["code"], name="shop_order_email_idx")]
    """
    )
    fix_tree(tmp_path, _tree(models), select=["SA402"], unsafe=True)
    text = (tmp_path / "shop/models.py").read_text()
    assert f'models.Index(fields=["email"], name="{other}")' in text


def test_migration_without_a_migrations_package_skips_the_model_too(tmp_path: Path) -> None:
    result = assert_fixed(
        tmp_path,
        _tree(HEAD),
        {"shop/models.py": HEAD},
        select=["SA401"],
        unsafe=True,
        settings=MIGRATE,
    )
    (skip,) = [s for s in result.skipped if s.rule == "SA401"]
    assert "--migrations: no migrations/ folder" in skip.reason


MIGRATION = """
    from django.db import migrations


    class Migration(migrations.Migration):
        dependencies = [{deps}]
        operations = []
    """


def test_two_leaf_migrations_are_ambiguous(tmp_path: Path) -> None:
    files = _tree(
        HEAD,
        **{
            "shop/migrations/__init__.py": "",
            "shop/migrations/0001_initial.py": MIGRATION.format(deps=""),
            "shop/migrations/0002_a.py": MIGRATION.format(deps='("shop", "0001_initial")'),
            "shop/migrations/0002_b.py": MIGRATION.format(deps='("shop", "0001_initial")'),
        },
    )
    result = assert_fixed(
        tmp_path,
        files,
        {"shop/models.py": HEAD, "shop/migrations/0003_scaleaudit_indexes.py": None},
        select=["SA401"],
        unsafe=True,
        settings=MIGRATE,
    )
    (skip,) = [s for s in result.skipped if s.rule == "SA401"]
    assert "2 latest migrations (0002_a, 0002_b)" in skip.reason and "makemigrations --merge" in skip.reason


def test_one_migration_per_app_after_its_latest_and_a_squash_is_followed(tmp_path: Path) -> None:
    files = _tree(
        HEAD,
        **{
            "shop/apps.py": "from django.apps import AppConfig\n\n\nclass ShopConfig(AppConfig):\n"
            '    name = "shop"\n    label = "store"\n',
            "shop/migrations/__init__.py": "",
            "shop/migrations/0001_initial.py": MIGRATION.format(deps=""),
            "shop/migrations/0002_a.py": MIGRATION.format(deps='("store", "0001_initial"), ("auth", "0001_initial")'),
            "shop/migrations/0001_squashed_0002_a.py": MIGRATION.format(deps="").replace(
                "operations", 'replaces = [("store", "0001_initial"), ("store", "0002_a")]\n    operations'
            ),
            "shop/migrations/0009_b.py": MIGRATION.format(deps='("store", "0002_a")'),
        },
    )
    result = fix_tree(tmp_path, files, select=BOTH, unsafe=True, settings=MIGRATE)
    assert len(result.applied) == 1
    text = (tmp_path / "shop/migrations/0010_scaleaudit_indexes.py").read_text()
    assert '("store", "0009_b")' in text and "atomic = False" in text
    assert text.count("        AddIndex(") == 2 and "import AddIndexConcurrently as AddIndex" in text
    assert 'index=models.Index(fields=["user"], name="shop_order_user_id_idx")' in text
    compile(text, "0010", "exec")
    _idempotent_with_migrations(tmp_path)
    assert len(list((tmp_path / "shop/migrations").glob("*scaleaudit*"))) == 1


def _idempotent_with_migrations(root: Path) -> None:
    settings = api.settings_for([root], isolated=True, **MIGRATE)
    again = run_fix([root], settings, write=True, use_cache=False, select=BOTH, unsafe=True)
    assert not again.changes, [c.path for c in again.changes]


# --- the real thing: makemigrations, the fix, migrate on PostgreSQL ---------------------------

SETTINGS = """
    import os

    SECRET_KEY = "x"
    INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "shop"]
    DATABASES = {{
        "default": {{
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "{db}",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
        }}
    }}
    DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
    USE_TZ = True
    """


@pytest.fixture
def database() -> Iterator[str]:
    with throwaway_database("scaleaudit_idx") as name:
        yield name


def _manage(root: Path, *args: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(root)}
    code = (
        "import sys; from django.core.management import execute_from_command_line; execute_from_command_line(sys.argv)"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_generated_migration_runs_on_postgresql_and_matches_the_models(tmp_path: Path, database: str) -> None:
    pytest.importorskip("django")
    models = (
        HEAD
        + """
        class Meta:
            ordering = ["email"]
    """
    )
    (tmp_path / "settings.py").write_text(textwrap.dedent(SETTINGS.format(db=database)))
    write_tree(tmp_path, dedent({**_tree(models), "shop/migrations/__init__.py": ""}))
    _manage(tmp_path, "makemigrations", "shop")
    result = fix_tree(tmp_path, {}, select=BOTH, unsafe=True, settings=MIGRATE)
    assert [c.path for c in result.changes] == ["shop/migrations/0002_scaleaudit_indexes.py", "shop/models.py"]
    assert "CREATE INDEX CONCURRENTLY" in _manage(tmp_path, "sqlmigrate", "shop", "0002")  # no write lock
    _manage(tmp_path, "migrate")
    with psycopg.connect(url(database)) as conn:
        rows = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'shop_order'").fetchall()
    found = {name: definition for name, definition in rows}
    assert re.search(r"\(user_id\)$", found["shop_order_user_id_idx"]), found
    assert re.search(r"\(email\)$", found["shop_order_email_idx"]), found
    # The models and the migrations agree: Django sees nothing left to migrate.
    assert "No changes detected" in _manage(tmp_path, "makemigrations", "--check", "--dry-run")
    _manage(tmp_path, "migrate", "shop", "0001")  # and it reverses (DROP INDEX CONCURRENTLY)
    with psycopg.connect(url(database)) as conn:
        left = conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'shop_order_%_idx'").fetchone()
    assert left == (0,)
    _idempotent_with_migrations(tmp_path)


def test_generated_migration_also_runs_on_sqlite_with_a_plain_index(tmp_path: Path) -> None:
    """healthchecks runs its tests on SQLite: the migration picks AddIndex there, and never
    imports django.contrib.postgres (which would need psycopg)."""
    pytest.importorskip("django")
    models = HEAD + "\n        class Meta:\n            ordering = [\"email\"]\n"
    sqlite = SETTINGS.replace('"django.db.backends.postgresql"', '"django.db.backends.sqlite3"')
    (tmp_path / "settings.py").write_text(textwrap.dedent(sqlite.format(db=tmp_path / "db.sqlite3")))
    write_tree(tmp_path, dedent({**_tree(models), "shop/migrations/__init__.py": ""}))
    _manage(tmp_path, "makemigrations", "shop")
    fix_tree(tmp_path, {}, select=BOTH, unsafe=True, settings=MIGRATE)
    _manage(tmp_path, "migrate")
    import sqlite3

    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"shop_order_user_id_idx", "shop_order_email_idx"} <= names, names
    assert "No changes detected" in _manage(tmp_path, "makemigrations", "--check", "--dry-run")
    sql = _manage(tmp_path, "sqlmigrate", "shop", "0002")
    assert "CREATE INDEX" in sql and "CONCURRENTLY" not in sql
