"""Review of the SA301 fix: comments in a signature stay on their parameter's line."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtest import assert_fixed, assert_idempotent
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
