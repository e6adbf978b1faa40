"""Config-file front end: .env, schema.prisma, compose YAML, Procfile."""

from __future__ import annotations

from pathlib import Path

from conftest import scan_tree, write_tree

from scaleaudit.configfiles.prisma_schema import parse_schema
from scaleaudit.configfiles.processes import process_model

# Shaped after Prisma's own examples and common real-world schemas: comments,
# @map/@@map, composite ids, named and sorted indexes, native types, enums,
# self relations, and attributes with nested parentheses.
REAL_SCHEMA = """
// This is your Prisma schema file
generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["fullTextSearch"]
}

datasource db {
  provider     = "postgresql"
  url          = env("POSTGRES_PRISMA_URL") // uses connection pooling
  directUrl    = env("POSTGRES_URL_NON_POOLING")
  relationMode = "prisma"
}

enum Role {
  USER
  ADMIN
}

model Account {
  id                String  @id @default(cuid())
  userId            String  @map("user_id")
  provider          String
  providerAccountId String  @map("provider_account_id")
  refresh_token     String? @db.Text
  user              User    @relation(fields: [userId], references: [id], onDelete: Cascade)

  @@unique([provider, providerAccountId])
  @@map("accounts")
}

model User {
  id        String    @id @default(cuid())
  email     String?   @unique
  role      Role      @default(USER)
  accounts  Account[]
  managerId String?
  manager   User?     @relation("Reports", fields: [managerId], references: [id])
  reports   User[]    @relation("Reports")
  createdAt DateTime  @default(now()) @map(name: "created_at")

  @@index([managerId(sort: Desc)], map: "user_manager_idx")
  @@map(name: "users")
}

model PostTag {
  postId Int
  tagId  Int
  post   Post @relation(fields: [postId], references: [id])
  tag    Tag  @relation(fields: [tagId], references: [id])

  @@id([postId, tagId])
}

model Post {
  id   Int       @id
  tags PostTag[]
  body String    @default("a // not a comment")
}

model Tag {
  id    Int       @id
  posts PostTag[]
}
"""


def test_parser_reads_models_fields_attributes() -> None:
    schema = parse_schema(REAL_SCHEMA)
    assert [m.name for m in schema.models] == ["Account", "User", "PostTag", "Post", "Tag"]
    [source] = schema.datasources
    assert (source.provider, source.url_env, source.relation_mode) == ("postgresql", "POSTGRES_PRISMA_URL", "prisma")
    account = schema.model("Account")
    assert account is not None and account.table == "accounts"
    assert account.field("userId").column == "user_id"  # type: ignore[union-attr]
    assert account.field("user").relation_fields == ["userId"]  # type: ignore[union-attr]
    assert ["provider", "providerAccountId"] in account.index_columns()
    user = schema.model("User")
    assert user is not None and user.table == "users"
    assert ["managerId"] in user.index_columns()  # sort options are stripped
    assert user.field("reports").is_list and user.field("manager").optional  # type: ignore[union-attr]
    post = schema.model("Post")
    assert post is not None and post.field("body") is not None
    assert "Role" in schema.enums


def test_relation_indexes_and_composite_keys() -> None:
    schema = parse_schema(REAL_SCHEMA)
    account, user, post_tag = schema.model("Account"), schema.model("User"), schema.model("PostTag")
    assert account and user and post_tag
    assert not account.covered(["userId"])  # the @@unique leads with provider
    assert user.covered(["managerId"])
    assert post_tag.covered(["postId"]) and not post_tag.covered(["tagId"])


def test_sa411_on_real_schema(tmp_path: Path) -> None:
    write_tree(tmp_path, {"prisma/schema.prisma": REAL_SCHEMA})
    found = {(f.line, f.anchor) for f in scan_tree(tmp_path, select=("SA411",)).findings}
    lines = REAL_SCHEMA.splitlines()
    account_line = next(i for i, text in enumerate(lines, 1) if "user              User" in text)
    tag_line = next(i for i, text in enumerate(lines, 1) if "tag    Tag" in text)
    assert found == {(account_line, "Account.userId"), (tag_line, "PostTag.tagId")}


def test_mysql_foreign_keys_are_indexed_by_innodb(tmp_path: Path) -> None:
    schema = REAL_SCHEMA.replace('"postgresql"', '"mysql"').replace('relationMode = "prisma"', "")
    write_tree(tmp_path, {"prisma/schema.prisma": schema})
    assert not scan_tree(tmp_path, select=("SA411",)).findings


def test_env_urls_redacted_and_judged_only_with_prisma(tmp_path: Path) -> None:
    env = 'export DATABASE_URL="postgres://u:s3cret@db/app"\nOTHER=postgres://x:y@h/d?connection_limit=5\n'
    write_tree(tmp_path, {".env": env})
    result = scan_tree(tmp_path)
    assert not result.findings  # no Prisma in the project: the params mean nothing
    facts = [f for f in result.facts if f.kind == "database-url"]
    assert {(f.get("var"), f.get("has_pool_params")) for f in facts} == {("DATABASE_URL", False), ("OTHER", True)}
    assert "s3cret" not in repr(facts)
    write_tree(tmp_path, {"prisma/schema.prisma": 'datasource db {\n  provider = "postgresql"\n'
                                                  '  url = env("DATABASE_URL")\n}\n'})
    [finding] = scan_tree(tmp_path, select=("SA104",)).findings
    assert (finding.path, finding.line) == (".env", 1) and "s3cret" not in finding.message


def test_compose_and_procfile_process_models(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "docker-compose.prod.yml": "services:\n  web:\n    command: gunicorn app:app -w 4\n"
                                   "    deploy:\n      replicas: 3\n",
        "Procfile": "web: uvicorn app:app --workers=2\nworker: celery -A app worker\n",
    })
    facts = {(f.location.path, f.get("workers"), f.get("instances")) for f in scan_tree(tmp_path).facts
             if f.kind == "process-model"}
    assert facts == {("docker-compose.prod.yml", 4, 3), ("Procfile", 2, None)}


def test_process_model_commands() -> None:
    assert process_model("pm2-runtime start ecosystem.config.js -i max", "x")["mode"] == "cluster"  # type: ignore[index]
    assert process_model("pm2 start app.js -i 4", "x")["instances"] == 4  # type: ignore[index]
    assert process_model("node dist/server.js", "x")["workers"] == 1  # type: ignore[index]
    assert process_model("celery -A app worker", "x") is None


def test_broken_yaml_is_a_diagnostic(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docker-compose.yml": "services: [\n"})
    result = scan_tree(tmp_path)
    assert [d.kind for d in result.diagnostics] == ["parse-error"]
