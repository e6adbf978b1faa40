"""The page sizes every pagination fixer writes (SA301 FastAPI, SA302 DRF, SA311 Prisma).

One module so that the three fixes agree: a client of a FastAPI endpoint, a DRF
view and an Express handler of the same project gets the same default page and
the same cap, and changing them is one edit.
"""

from __future__ import annotations

# One page a client can render at once; small enough that the default request reads
# little from a large table.
DEFAULT_LIMIT = 50
# What a client may ask for in one request (four default pages): bounded, so `?limit=`
# cannot be used to read the whole table again.
MAX_LIMIT = 200
