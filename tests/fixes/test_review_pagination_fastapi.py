"""Review of the SA301 fix: comments in a signature stay on their parameter's line, and a
handler that needs every row (it writes them, or counts them) is not paged."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from fixtest import assert_fixed, assert_idempotent, fix_tree
from test_pagination_fastapi import BASE, FIX, HEAD

QUERY = "    return session.scalars(select(Item).order_by(Item.id)).all()\n"
PAGED = "    return session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset)).all()\n"
LIMIT = "    limit: int = Query(50, ge=1, le=200),\n"
OFFSET = "    offset: int = Query(0, ge=0)"


@pytest.mark.parametrize(
    ("signature", "fixed"),
    [
        (  # the comment of the last parameter went to `offset`, the first one's was copied to each new one
            '    q: str = "",  # 1st\n    session: Session = Depends(get_session),  # 2nd\n):\n',
            f'    q: str = "",  # 1st\n    session: Session = Depends(get_session),  # 2nd\n{LIMIT}{OFFSET},\n):\n',
        ),
        (  # no trailing comma: the comment was left on a line of its own and `limit` lost its indent
            "    session: Session = Depends(get_session)  # the request's\n):\n",
            f"    session: Session = Depends(get_session),  # the request's\n{LIMIT}{OFFSET}\n):\n",
        ),
        (  # before **kwargs: the comment was copied to both new parameters
            "    session: Session = Depends(get_session),  # db\n    **extra,\n):\n",
            f"    session: Session = Depends(get_session),  # db\n{LIMIT}{OFFSET},\n    **extra,\n):\n",
        ),
        (  # keyword-only
            "    *,\n    session: Session = Depends(get_session),  # kw\n):\n",
            f"    *,\n    session: Session = Depends(get_session),  # kw\n{LIMIT}{OFFSET},\n):\n",
        ),
        (  # a comment line before a parameter belongs to it, not to the new ones
            "    # the request's session\n    session: Session = Depends(get_session),\n):\n",
            f"    # the request's session\n    session: Session = Depends(get_session),\n{LIMIT}{OFFSET},\n):\n",
        ),
    ],
    ids=["last-with-comma", "last-without-comma", "before-kwargs", "keyword-only", "comment-line"],
)
def test_comments_in_a_vertical_signature_stay_on_their_line(tmp_path: Path, signature: str, fixed: str) -> None:
    route = '\n\n@router.get("/items")\ndef list_items(\n'
    before = HEAD.replace("APIRouter, Depends", "APIRouter, Depends, Query") + route + signature + QUERY
    after = HEAD.replace("APIRouter, Depends", "APIRouter, Depends, Query") + route + fixed + PAGED
    result = assert_fixed(tmp_path, {**BASE, "app/routes.py": before}, {"app/routes.py": after}, **FIX)
    assert len(result.applied) == 1
    assert_idempotent(tmp_path, **FIX)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            """
            @router.post("/reprice")
            def reprice(session: Session = Depends(get_session)):
                items = session.scalars(select(Item).order_by(Item.id)).all()
                for item in items:
                    item.name = item.name.upper()
                return items
            """,
            "the handler changes the rows it reads",
        ),
        (
            """
            @router.post("/archive")
            def archive(session: Session = Depends(get_session)):
                items = session.scalars(select(Item).order_by(Item.id)).all()
                session.add_all([Item(name=i.name + "-copy") for i in items])
                session.commit()
                return items
            """,
            "the handler also writes (`session.add_all(",
        ),
        (
            """
            @router.get("/stats")
            def stats(session: Session = Depends(get_session)):
                items = session.scalars(select(Item).order_by(Item.id)).all()
                return {"items": items, "total": len(items)}
            """,
            "the handler computes `len()` over the rows",
        ),
        (
            """
            @router.get("/longest")
            def longest(session: Session = Depends(get_session)):
                items = session.scalars(select(Item).order_by(Item.id)).all()
                names = [i.name for i in items]
                return {"items": items, "longest": max(names, key=len)}
            """,
            "the handler computes `max()` over the rows",
        ),
    ],
    ids=["changes-rows", "writes", "len-total", "max-of-derived"],
)
def test_a_handler_that_needs_every_row_is_not_paged(tmp_path: Path, body: str, reason: str) -> None:
    # Paged, /reprice changed the first 50 items only and /stats reported 50 as the total.
    routes = HEAD + "\n" + textwrap.dedent(body)
    result = fix_tree(tmp_path, {**BASE, "app/routes.py": routes}, **FIX)
    assert not result.changes
    (skip,) = [s for s in result.skipped if s.rule == "SA301"]
    assert reason in skip.reason and "page it by hand" in skip.reason, skip.reason


def test_a_set_the_handler_fills_is_not_a_write(tmp_path: Path) -> None:
    body = """
        @router.get("/items")
        def list_items(session: Session = Depends(get_session)):
            seen = set()
            items = session.scalars(select(Item).order_by(Item.id)).all()
            for item in items:
                seen.add(item.name)
            return [i for i in items if i.name in seen]
        """
    routes = HEAD + "\n" + textwrap.dedent(body)
    result = fix_tree(tmp_path, {**BASE, "app/routes.py": routes}, **FIX)
    assert len(result.applied) == 1, result.skipped
    assert ".limit(limit).offset(offset)).all()" in (tmp_path / "app/routes.py").read_text()
