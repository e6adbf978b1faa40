"""SA523 local-upload-with-object-storage, the per-file half.

Two facts per file, joined in `scaleaudit.project.scaling_uploads`:

* `object-storage` — an S3 (or GCS/MinIO) client or a django-storages
  backend: `boto3.client("s3")`, `session.resource("s3")`,
  `"storages.backends.s3boto3.S3Boto3Storage"`, `google.cloud.storage.Client()`;
* `local-upload` — an uploaded file written to the local disk: Flask's
  `request.files[...]` (a werkzeug `FileStorage`) `.save(path)`, or
  `open(path, "wb")` / `shutil.copyfileobj(upload.file, ...)` inside a
  handler taking a FastAPI/Starlette `UploadFile`.

A local upload is only reported when object storage exists elsewhere in the
project: then the disk write is the odd one out, and the files vanish when
the load balancer sends the download to another instance. Without object
storage anywhere the app may be single-host by design; the report still
shows "file storage: local disk" from the fact.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from scaleaudit.python.context import PyContext
from scaleaudit.python.imports import dotted
from scaleaudit.python.rule import Case, PythonRule
from scaleaudit.python.rules.scaling_process import str_literal

STORAGE_BACKENDS = {
    "storages.backends.s3boto3.S3Boto3Storage": "s3",
    "storages.backends.s3.S3Storage": "s3",
    "storages.backends.gcloud.GoogleCloudStorage": "gcs",
    "storages.backends.azure_storage.AzureStorage": "azure-blob",
}
STORAGE_CLIENTS = {"google.cloud.storage.Client": "gcs", "minio.Minio": "s3"}
UPLOAD_TYPES = ("fastapi.UploadFile", "starlette.datastructures.UploadFile", "fastapi.datastructures.UploadFile")
_FLASK = "from flask import Flask, request\napp = Flask(__name__)\n"
_S3 = {"app/storage.py": "import boto3\ns3 = boto3.client('s3')\n"}


def _is_files_access(node: cst.BaseExpression, ctx: PyContext) -> bool:
    """`request.files["f"]` or `request.files.get("f")` with Flask's request."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get":
        node = node.func.value
    elif isinstance(node, cst.Subscript):
        node = node.value
    else:
        return False
    name = dotted(node)
    return name is not None and ctx.imports.resolve_dotted(name) in ("flask.request.files", "quart.request.files")


class LocalUploadWithObjectStorage(PythonRule):
    id = "SA523"
    TRIGGERS = (b"files", b"UploadFile", b"s3", b"storages", b"storage", b"Minio")
    VALID: ClassVar[tuple[Case | str, ...]] = (
        Case(
            {
                "app/views.py": _FLASK + "@app.post('/up')\ndef up():\n    f = request.files['doc']\n"
                "    f.save('/srv/uploads/' + f.filename)\n"
            },
            note="no object storage anywhere: single host by design",
        ),
        Case(
            {
                **_S3,
                "app/views.py": _FLASK + "from app.storage import s3\n@app.post('/up')\ndef up():\n"
                "    f = request.files['doc']\n    s3.upload_fileobj(f, 'bucket', f.filename)\n",
            }
        ),
        Case({**_S3, "app/views.py": "def save(d):\n    d.save('/tmp/x')\n"}, note="not an uploaded file"),
        Case(
            {**_S3, "tests/test_up.py": _FLASK + "def test_up():\n    f = request.files['doc']\n    f.save('/tmp/x')\n"}
        ),
    )
    INVALID: ClassVar[tuple[Case | str, ...]] = (
        Case(
            {
                **_S3,
                "app/views.py": _FLASK + "@app.post('/up')\ndef up():\n    f = request.files['doc']\n"
                "    f.save('/srv/uploads/' + f.filename)\n",
            },
            expect=1,
        ),
        Case(
            {
                **_S3,
                "app/views.py": _FLASK + "@app.post('/up')\ndef up():\n"
                "    request.files.get('avatar').save('/srv/a.png')\n",
            },
            expect=1,
        ),
        Case(
            {
                "app/settings.py": "STORAGES = {'default': {'BACKEND': 'storages.backends.s3.S3Storage'}}\n",
                "app/api.py": "from fastapi import FastAPI, UploadFile\napp = FastAPI()\n@app.post('/up')\n"
                "async def up(file: UploadFile):\n    with open(f'/data/{file.filename}', 'wb') as out:\n"
                "        out.write(await file.read())\n",
            },
            expect=1,
        ),
    )

    def setup(self) -> None:
        self.uploads: set[str] = set()  # local names holding an uploaded file in the current function

    def visit_FunctionDef(self, node: cst.FunctionDef, ctx: PyContext) -> None:
        self.uploads = set()
        for param in node.params.params:
            annotation = param.annotation.annotation if param.annotation else None
            if annotation is not None and ctx.imports.resolve(annotation) in UPLOAD_TYPES:
                self.uploads.add(param.name.value)

    def visit_Assign(self, node: cst.Assign, ctx: PyContext) -> None:
        if ctx.in_function and _is_files_access(node.value, ctx):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.uploads.add(target.target.value)

    def visit_SimpleString(self, node: cst.SimpleString, _ctx: PyContext) -> None:
        value = str_literal(node)
        if value in STORAGE_BACKENDS:
            self.fact("object-storage", node, provider=STORAGE_BACKENDS[value], how=value)

    def visit_Call(self, node: cst.Call, ctx: PyContext) -> None:
        if ctx.is_test:
            return
        self._storage_client(node, ctx)
        if ctx.in_function:
            self._local_write(node, ctx)

    def _storage_client(self, node: cst.Call, ctx: PyContext) -> None:
        func = node.func
        qualname = ctx.imports.resolve(func) or ""
        if qualname in STORAGE_CLIENTS and ctx.imports.is_imported(func):
            self.fact("object-storage", node, provider=STORAGE_CLIENTS[qualname], how=qualname)
        elif (
            isinstance(func, cst.Attribute)
            and func.attr.value in ("client", "resource")
            and node.args
            and str_literal(node.args[0].value) == "s3"
            and (qualname.startswith(("boto3", "aioboto3")) or "session" in qualname.lower())
        ):
            self.fact("object-storage", node, provider="s3", how=f"{qualname}('s3')")

    def _local_write(self, node: cst.Call, ctx: PyContext) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "save":
            receiver = func.value
            if (isinstance(receiver, cst.Name) and receiver.value in self.uploads) or _is_files_access(receiver, ctx):
                self.fact(
                    "local-upload", node, how="FileStorage.save()", function=ctx.function.name if ctx.function else ""
                )
            return
        if not self.uploads or ctx.imports.resolve(func) not in ("open", "shutil.copyfileobj", "aiofiles.open"):
            return
        mode = str_literal(node.args[1].value) if len(node.args) > 1 else None
        if func_name(func) == "copyfileobj" or (mode is not None and ("w" in mode or "a" in mode)):
            self.fact(
                "local-upload",
                node,
                how="UploadFile written with open()",
                function=ctx.function.name if ctx.function else "",
            )


def func_name(func: cst.BaseExpression) -> str:
    name = dotted(func) or ""
    return name.rsplit(".", 1)[-1]
