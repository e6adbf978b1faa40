"""Generate the controllers of fixtures/express_prisma (the review's shape).

The review found 48 controllers each building its own `new PrismaClient()`.
This writes 36 controllers that vary the syntax (ESM named/aliased/namespace
imports, CommonJS require, .mjs) plus a few that already use the shared
singleton; the hand-written files (app, schema, specials) live beside them.
Run: python scripts/gen_express_prisma.py (the output is committed).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "express_prisma"
NAMES = [
    "account", "address", "audit", "banner", "billing", "brand", "cart", "category", "coupon", "currency",
    "delivery", "discount", "event", "faq", "favorite", "feedback", "invoice", "language", "message", "newsletter",
    "notification", "page", "payment", "plan", "product", "promotion", "refund", "region", "review", "role",
    "setting", "shipment", "store", "subscription", "ticket", "wishlist",
]  # fmt: skip
MODELS = ["user", "post", "comment", "order", "product", "category", "tag", "profile"]

TS_BODY = """
export async function list{Name}(req: Request, res: Response) {{
  const take = Math.min(Number(req.query.take) || 20, 100);
  const items = await {var}.{model}.findMany({{ take, skip: Number(req.query.skip) || 0, orderBy: {{ id: 'desc' }} }});
  res.json(items);
}}

export async function get{Name}(req: Request, res: Response) {{
  const item = await {var}.{model}.findUnique({{ where: {{ id: Number(req.params.id) }} }});
  if (!item) return res.status(404).end();
  res.json(item);
}}
"""
JS_BODY = """
exports.list = async (req, res) => {{
  const items = await {var}.{model}.findMany({{ take: 20, orderBy: {{ id: 'desc' }} }});
  res.json(items);
}};

exports.get = async (req, res) => {{
  res.json(await {var}.{model}.findUnique({{ where: {{ id: Number(req.params.id) }} }}));
}};
"""
MJS_BODY = """
export const list = async (req, res) => {{
  res.json(await {var}.{model}.findMany({{ take: 50 }}));
}};
"""
EXPECT = "  // expect: SA101"
HEADERS = [
    # (extension, header lines, variable, body)
    ("ts", "import {{ Request, Response }} from 'express';\nimport {{ PrismaClient }} from '@prisma/client';\n\n"
           "const prisma = new PrismaClient();" + EXPECT + "\n", "prisma", TS_BODY),
    ("ts", "import {{ Request, Response }} from 'express';\nimport {{ PrismaClient as DB }} from '@prisma/client';\n\n"
           "const db = new DB({{ log: ['error'] }});" + EXPECT + "\n", "db", TS_BODY),
    ("js", "const {{ PrismaClient }} = require('@prisma/client');\n\n"
           "const prisma = new PrismaClient();" + EXPECT + "\n", "prisma", JS_BODY),
    ("ts", "import {{ Request, Response }} from 'express';\nimport * as Prisma from '@prisma/client';\n\n"
           "const prisma = new Prisma.PrismaClient();" + EXPECT + "\n", "prisma", TS_BODY),
    ("ts", "import {{ Request, Response }} from 'express';\nimport {{ prisma }} from '../../lib/prisma';\n", "prisma", TS_BODY),
    ("mjs", "import {{ PrismaClient }} from '@prisma/client';\n\n"
            "const prisma = new PrismaClient();" + EXPECT + "\n", "prisma", MJS_BODY),
]  # fmt: skip


def main() -> None:
    out = ROOT / "src" / "controllers" / "generated"
    out.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(NAMES):
        ext, header, var, body = HEADERS[index % len(HEADERS)]
        model = MODELS[index % len(MODELS)]
        text = header.format() + body.format(Name=name.capitalize(), var=var, model=model)
        (out / f"{name}.controller.{ext}").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
