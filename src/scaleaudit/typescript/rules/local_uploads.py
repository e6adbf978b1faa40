"""SA503 uploads-on-local-disk: multer writing uploads to the local filesystem.

`multer.diskStorage(...)` or `multer({ dest: "uploads/" })` keep each file on
the instance that received it: behind a load balancer the next request (a
download, a thumbnail job) lands on an instance that does not have it, and
a redeploy or autoscaling event loses it. `multer.memoryStorage()` feeding
S3 (`@aws-sdk/lib-storage`), or `multer-s3`, are silent.
"""

from __future__ import annotations

from typing import ClassVar

from scaleaudit.typescript.context import TsContext
from scaleaudit.typescript.parser import Node, call_args, object_keys, string_value, text
from scaleaudit.typescript.rule import TsCase, TsRule

_M = "import multer from 'multer';\n"


class UploadsOnLocalDisk(TsRule):
    id = "SA503"
    TRIGGERS = (b"multer",)
    NODE_TYPES = frozenset({"call_expression"})
    VALID: ClassVar[tuple[TsCase | str, ...]] = (
        _M + "export const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 5e6 } });\n",
        _M + "import multerS3 from 'multer-s3';\n"
        "export const upload = multer({ storage: multerS3({ s3, bucket: 'b' }) });\n",
        "const multer = { diskStorage() {} };\nmulter.diskStorage({});\n",
    )
    INVALID: ClassVar[tuple[TsCase | str, ...]] = (
        _M + "const storage = multer.diskStorage({ destination: 'uploads/',\n"
        "  filename: (r, f, cb) => cb(null, f.originalname) });\n"
        "export const upload = multer({ storage });\n",
        "const multer = require('multer');\nconst upload = multer({ dest: 'uploads/' });\n",
    )

    def visit(self, node: Node, ctx: TsContext) -> None:
        if ctx.is_test:
            return
        callee = ctx.imports.resolve(node.child_by_field_name("function"))
        if callee == "multer.diskStorage":
            keys = object_keys(call_args(node)[0]) if call_args(node) else {}
            where = string_value(keys.get("destination")) or "a local directory"
            self.report(node, anchor="multer.diskStorage", where=where)
        elif callee == "multer":
            args = call_args(node)
            keys = object_keys(args[0]) if args else {}
            if "dest" in keys:
                where = string_value(keys["dest"]) or text(keys["dest"])
                self.report(node, anchor="multer.dest", where=where)
