"""SA301 fix (unsafe): `limit`/`offset` query parameters for an unbounded SQLAlchemy select in a FastAPI handler."""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import scan_tree, write_tree
from fixtest import assert_fixed, assert_idempotent, dedent, fix_tree, run_python

from scaleaudit.fixes.base import FixResult
from scaleaudit.fixes.paging import DEFAULT_LIMIT, MAX_LIMIT

MODELS = """
    from sqlalchemy import Integer, String
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class Item(Base):
        __tablename__ = "items"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        name: Mapped[str] = mapped_column(String(50))
    """
HEAD = textwrap.dedent(
    """
    from fastapi import APIRouter, Depends
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.db import get_session
    from app.models import Item

    router = APIRouter()
    """
).lstrip()
DB = "def get_session():\n    raise NotImplementedError\n"
BASE = {"app/__init__.py": "", "app/models.py": MODELS, "app/db.py": DB}
FIX = {"select": ["SA301"], "unsafe": True}


def _skip_reasons(result: FixResult, rule: str = "SA301") -> list[str]:
    return [s.reason for s in result.skipped if s.rule == rule]


def _sa301(root: Path) -> list[tuple[str, int]]:
    return [(f.path, f.line) for f in scan_tree(root, select=("SA301",)).findings]


def _unchanged(tmp_path: Path, routes: str) -> FixResult:
    """Fix a tree whose routes must stay byte-identical; return the result to read the reasons."""
    result = assert_fixed(tmp_path, {**BASE, "app/routes.py": routes}, {"app/routes.py": routes}, **FIX)
    assert not result.applied and not result.changes
    return result


def test_inline_select_gets_limit_offset_params_and_a_long_signature_is_split(tmp_path: Path) -> None:
    before = HEAD + textwrap.dedent(
        """

        @router.get("/items")
        def list_items(session: Session = Depends(get_session)):
            return session.scalars(select(Item).order_by(Item.id)).all()
        """
    )
    after = textwrap.dedent(
        """
        from fastapi import APIRouter, Depends, Query
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from app.db import get_session
        from app.models import Item

        router = APIRouter()


        @router.get("/items")
        def list_items(
            session: Session = Depends(get_session),
            limit: int = Query(50, ge=1, le=200),
            offset: int = Query(0, ge=0),
        ):
            return session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset)).all()
        """
    )
    assert _sa301(write_tree(tmp_path, dedent({**BASE, "app/routes.py": before}))) == [("app/routes.py", 13)]
    result = assert_fixed(tmp_path, {**BASE, "app/routes.py": before}, {"app/routes.py": after}, **FIX)
    (applied,) = result.applied
    assert f"default {DEFAULT_LIMIT}, at most {MAX_LIMIT}" in applied.description
    assert "order_by" not in applied.description  # the query is ordered: no hint
    assert _sa301(tmp_path) == []
    assert_idempotent(tmp_path, **FIX)


def test_statement_variable_is_paged_where_it_is_executed_and_an_unordered_one_gets_a_hint(tmp_path: Path) -> None:
    routes = HEAD + textwrap.dedent(
        """

        @router.get("/items")
        def items(s: Session = Depends(get_session)):
            stmt = select(Item).where(Item.name != "")
            rows = s.scalars(stmt).all()
            return [r.name for r in rows]
        """
    )
    expected = HEAD.replace("import APIRouter, Depends", "import APIRouter, Depends, Query") + textwrap.dedent(
        """

        @router.get("/items")
        def items(
            s: Session = Depends(get_session),
            limit: int = Query(50, ge=1, le=200),
            offset: int = Query(0, ge=0),
        ):
            stmt = select(Item).where(Item.name != "")
            rows = s.scalars(stmt.limit(limit).offset(offset)).all()
            return [r.name for r in rows]
        """
    )
    result = assert_fixed(tmp_path, {**BASE, "app/routes.py": routes}, {"app/routes.py": expected}, **FIX)
    (applied,) = result.applied
    assert "no order_by" in applied.description
    assert _sa301(tmp_path) == []
    assert_idempotent(tmp_path, **FIX)


def test_async_handler_with_execute_scalars_and_a_short_signature_stays_on_one_line(tmp_path: Path) -> None:
    routes = """
        from fastapi import FastAPI
        from sqlalchemy import select

        from app.models import Item

        app = FastAPI()


        @app.get("/items")
        async def items(db):
            return (await db.execute(select(Item))).scalars().all()
        """
    after = """
        from fastapi import FastAPI, Query
        from sqlalchemy import select

        from app.models import Item

        app = FastAPI()


        @app.get("/items")
        async def items(db, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)):
            return (await db.execute(select(Item).limit(limit).offset(offset))).scalars().all()
        """
    assert_fixed(tmp_path, {**BASE, "app/routes.py": routes}, {"app/routes.py": after}, **FIX)
    assert _sa301(tmp_path) == []
    assert_idempotent(tmp_path, **FIX)


def test_annotated_style_is_followed_and_query_imported_where_missing(tmp_path: Path) -> None:
    routes = """
        from typing import Annotated

        from fastapi import APIRouter, Depends
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from app.db import get_session
        from app.models import Item

        router = APIRouter()
        SessionDep = Annotated[Session, Depends(get_session)]


        @router.get("/items")
        def items(session: SessionDep):
            return session.scalars(select(Item).order_by(Item.id)).all()
        """
    after = """
        from typing import Annotated

        from fastapi import APIRouter, Depends, Query
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from app.db import get_session
        from app.models import Item

        router = APIRouter()
        SessionDep = Annotated[Session, Depends(get_session)]


        @router.get("/items")
        def items(
            session: SessionDep,
            limit: Annotated[int, Query(ge=1, le=200)] = 50,
            offset: Annotated[int, Query(ge=0)] = 0,
        ):
            return session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset)).all()
        """
    assert_fixed(tmp_path, {**BASE, "app/routes.py": routes}, {"app/routes.py": after}, **FIX)
    assert_idempotent(tmp_path, **FIX)


def test_legacy_session_query_is_limited_before_all_and_kw_only_signatures_take_keyword_params(tmp_path: Path) -> None:
    routes = """
        from fastapi import APIRouter, Query

        from app.models import Item

        router = APIRouter()


        @router.get("/items")
        def items(*, db, q: str = Query("")):
            return db.query(Item).filter(Item.name != "").all()
        """
    after = """
        from fastapi import APIRouter, Query

        from app.models import Item

        router = APIRouter()


        @router.get("/items")
        def items(
            *,
            db,
            q: str = Query(""),
            limit: int = Query(50, ge=1, le=200),
            offset: int = Query(0, ge=0),
        ):
            return db.query(Item).filter(Item.name != "").limit(limit).offset(offset).all()
        """
    assert_fixed(tmp_path, {**BASE, "app/routes.py": routes}, {"app/routes.py": after}, **FIX)
    assert _sa301(tmp_path) == []
    assert_idempotent(tmp_path, **FIX)


def test_a_vertical_signature_keeps_its_layout(tmp_path: Path) -> None:
    routes = HEAD + textwrap.dedent(
        """

        @router.get("/items")
        def items(
            session: Session = Depends(get_session),
        ):
            return session.scalars(select(Item)).all()
        """
    )
    after = routes.replace(
        "    session: Session = Depends(get_session),\n",
        "    session: Session = Depends(get_session),\n    limit: int = Query(50, ge=1, le=200),\n"
        "    offset: int = Query(0, ge=0),\n",
    )
    after = after.replace("select(Item))", "select(Item).limit(limit).offset(offset))")
    after = after.replace("import APIRouter, Depends", "import APIRouter, Depends, Query")
    assert_fixed(tmp_path, {**BASE, "app/routes.py": routes}, {"app/routes.py": after}, **FIX)


# --- left alone -------------------------------------------------------------------


def test_existing_paging_params_of_any_usual_name_are_not_doubled(tmp_path: Path) -> None:
    for params, names, chain in (
        ("skip: int = 0, limit: int = 100", "`limit`, `skip`", ".offset(skip).limit(limit)"),
        ("page: int = 1", "`page`", ".offset((page - 1) * 50).limit(50)"),
        ("page: int = 1, per_page: int = 20", "`page`, `per_page`", ".offset((page - 1) * per_page).limit(per_page)"),
    ):
        routes = HEAD + f"\n\n@router.get('/items')\ndef items({params}, s: Session = Depends(get_session)):\n"
        routes += "    return s.scalars(select(Item)).all()\n"
        result = _unchanged(tmp_path / params.split(":")[0], routes)
        (reason,) = _skip_reasons(result)
        assert f"already takes {names}: apply `{chain}` to the query" in reason and "no second set" in reason


def test_a_paging_dependency_counts_as_existing_paging_params(tmp_path: Path) -> None:
    routes = HEAD + "\nfrom app.deps import PaginationParams\n\n\n@router.get('/items')\n"
    routes += "def items(p: PaginationParams = Depends(), s: Session = Depends(get_session)):\n"
    routes += "    return s.scalars(select(Item)).all()\n"
    (reason,) = _skip_reasons(_unchanged(tmp_path, routes))
    assert "takes `p`, which looks like a paging dependency" in reason


def test_a_select_with_limit_is_not_even_reported(tmp_path: Path) -> None:
    routes = HEAD + "\n\n@router.get('/items')\ndef items(s: Session = Depends(get_session)):\n"
    routes += "    return s.scalars(select(Item).limit(20)).all()\n"
    result = _unchanged(tmp_path, routes)
    assert not [f for f in result.scan.findings if f.rule == "SA301"]
    assert _skip_reasons(result) == []


def test_an_offset_without_limit_is_left_with_the_edit_to_make(tmp_path: Path) -> None:
    routes = HEAD + "\n\n@router.get('/items')\ndef items(start_at: int, s: Session = Depends(get_session)):\n"
    routes += "    return s.scalars(select(Item).offset(start_at)).all()\n"
    (reason,) = _skip_reasons(_unchanged(tmp_path, routes))
    assert "already calls `.offset()`" in reason and "`.limit(...)`" in reason


def test_a_handler_binding_limit_itself_or_a_foreign_query_name_is_left_alone(tmp_path: Path) -> None:
    routes = HEAD + "\n\n@router.get('/items')\ndef items(s: Session = Depends(get_session)):\n"
    routes += "    limit = 5\n    return s.scalars(select(Item)).all()\n"
    (reason,) = _skip_reasons(_unchanged(tmp_path / "local", routes))
    assert "binds `limit` itself" in reason
    foreign = HEAD.replace("from sqlalchemy.orm import Session", "from sqlalchemy.orm import Query, Session")
    foreign += "\n\n@router.get('/items')\ndef items(s: Session = Depends(get_session)):\n"
    foreign += "    return s.scalars(select(Item)).all()\n"
    (reason,) = _skip_reasons(_unchanged(tmp_path / "query", foreign))
    assert "`Query` names something else" in reason


def test_flask_and_django_handlers_are_skipped_with_their_own_paging_idiom(tmp_path: Path) -> None:
    flask = """
        from flask import Flask
        from sqlalchemy import select

        from app.models import Item

        app = Flask(__name__)


        @app.get("/items")
        def items():
            return [i.name for i in app.session.scalars(select(Item)).all()]
        """
    (reason,) = _skip_reasons(_unchanged(tmp_path / "flask", dedent({"x": flask})["x"]))
    assert reason.startswith(
        "not a FastAPI handler: with Flask-SQLAlchemy, write "
        "`db.paginate(select(Item), per_page=50, max_per_page=200)` "
        "instead of `app.session.scalars(select(Item)).all()`"
    )
    legacy = flask.replace("app.session.scalars(select(Item)).all()", "rows").replace(
        "def items():\n", "def items():\n            rows = Item.query.filter_by(name='x').all()\n"
    )
    (reason,) = _skip_reasons(_unchanged(tmp_path / "legacy", dedent({"x": legacy})["x"]))
    assert "write `Item.query.filter_by(name='x').paginate(per_page=50, max_per_page=200)`" in reason
    assert "instead of `Item.query.filter_by(name='x').all()`" in reason
    django = """
        from django.shortcuts import render

        from app.models import Item


        def items(request):
            return render(request, "items.html", {"items": Item.objects.all()})
        """
    tree = {"app/__init__.py": "", "app/views.py": django}
    result = assert_fixed(tmp_path / "django", tree, {"app/views.py": django}, **FIX)
    (reason,) = _skip_reasons(result)
    assert "Paginator(Item.objects.all(), 50).get_page(request.GET.get('page'))" in reason


def test_a_plain_function_is_not_a_handler(tmp_path: Path) -> None:
    helper = HEAD + "\n\ndef all_items(s):\n    return s.scalars(select(Item)).all()\n"
    result = _unchanged(tmp_path, helper)
    assert not [f for f in result.scan.findings if f.rule == "SA301"]


def test_without_unsafe_nothing_changes(tmp_path: Path) -> None:
    routes = HEAD + "\n\n@router.get('/items')\ndef items(s: Session = Depends(get_session)):\n"
    routes += "    return s.scalars(select(Item)).all()\n"
    files = {**BASE, "app/routes.py": routes}
    result = assert_fixed(tmp_path, files, {"app/routes.py": routes}, select=["SA301"])
    assert not result.changes
    (reason,) = _skip_reasons(result)
    assert "--unsafe-fixes" in reason


# --- the fixed app, for real -------------------------------------------------------

APP = """
    from fastapi import Depends, FastAPI
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from app.models import Base, Item

    engine = create_engine("sqlite:///items.db")
    app = FastAPI()


    def get_session():
        with Session(engine) as session:
            yield session


    @app.get("/items")
    def list_items(session: Session = Depends(get_session)):
        return [{"id": i.id} for i in session.scalars(select(Item).order_by(Item.id)).all()]
    """
CLIENT = textwrap.dedent(
    """
    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

    from app.main import Base, Item, app, engine

    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Item(id=n, name=f"item {n}") for n in range(1, 251)])
        s.commit()
    client = TestClient(app)
    """
)


def test_the_fixed_app_pages_and_caps_its_list(tmp_path: Path) -> None:
    files = {**BASE, "app/main.py": APP}
    write_tree(tmp_path / "before", dedent(files))
    run_python(tmp_path / "before", CLIENT + "assert len(client.get('/items').json()) == 250\n")
    result = fix_tree(tmp_path / "after", files, **FIX)
    assert len(result.applied) == 1
    checks = f"""
        assert len(client.get("/items").json()) == {DEFAULT_LIMIT}
        assert [r["id"] for r in client.get("/items?limit=2").json()] == [1, 2]
        assert [r["id"] for r in client.get("/items?limit=2&offset=2").json()] == [3, 4]
        assert len(client.get("/items?limit={MAX_LIMIT}").json()) == {MAX_LIMIT}
        assert client.get("/items?limit={MAX_LIMIT + 1}").status_code == 422
        assert client.get("/items?limit=0").status_code == 422
        assert client.get("/items?offset=-1").status_code == 422
        """
    run_python(tmp_path / "after", CLIENT + textwrap.dedent(checks))


def test_query_is_imported_below_the_module_docstring(tmp_path: Path) -> None:
    """A module that opens with its docstring and writes `import fastapi`: the new import must
    not go above the docstring, or the module loses its `__doc__`."""
    routes = '''
        """Item routes."""
        import fastapi
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from app.db import get_session
        from app.models import Item

        router = fastapi.APIRouter()


        @router.get("/items")
        def items(session: Session = fastapi.Depends(get_session)):
            return session.scalars(select(Item).order_by(Item.id)).all()
        '''
    result = fix_tree(tmp_path, {**BASE, "app/routes.py": routes}, **FIX)
    assert [a.rule for a in result.applied] == ["SA301"]
    text = (tmp_path / "app/routes.py").read_text()
    assert text.startswith('"""Item routes."""\n'), text
    assert "from fastapi import Query\n" in text
    run_python(tmp_path, "import app.routes; assert app.routes.__doc__ == 'Item routes.'")
    assert_idempotent(tmp_path, **FIX)
