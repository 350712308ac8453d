"""Backup and restore of the whole ledger: the PostgreSQL database and the evidence files.

``scripts/backup.sh DEST`` (``manage.py backup_ledger``) writes into an empty folder:

- ``database.dump`` — ``pg_dump --format=custom`` of one consistent snapshot;
- ``evidence/…`` — every evidence file of that snapshot, read through the storage API (the
  media folder or S3-compatible object storage alike) and checked against the SHA-256 recorded
  at upload;
- ``manifest.json`` — the dump's SHA-256, every file's name, size and SHA-256, and the row
  count of every table *in the same snapshot*.

The snapshot is exported from a REPEATABLE READ transaction (``pg_export_snapshot``) and handed
to ``pg_dump --snapshot``, so the counts and the evidence list describe exactly the dump, however
busy the site is meanwhile. Evidence files are never changed or deleted, so copying them after
the dump finds every one of them.

``scripts/restore.sh SRC`` (``manage.py restore_ledger``, with ``DATABASE_URL`` naming an *empty*
database) checks the backup against its manifest before touching anything, restores the dump
with ``pg_restore``, puts the files back through the storage API, and checks the result: every
table's row count equals the manifest's and every evidence file has its recorded SHA-256.
docs/operations.md has the procedure; tests/test_backup_restore.py is the drill.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil

# pg_dump and pg_restore run as child processes with argument lists, never through a shell.
import subprocess  # nosec B404
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from rectification.models import Evidence

MANIFEST = "manifest.json"
DATABASE_DUMP = "database.dump"
EVIDENCE_DIR = "evidence"
FORMAT_VERSION = 1


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why (in Chinese, for operators)."""


@dataclass
class Problems:
    """What does not match; empty means the check passed."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def __bool__(self) -> bool:
        return bool(self.lines)


def sha256_of(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def _file_hash(path: Path) -> str:
    with path.open("rb") as handle:
        return sha256_of(handle)


def table_counts() -> dict[str, int]:
    """Rows per table of every model (proxies and unmanaged models left out), by label."""
    return {
        model._meta.label: model._default_manager.count()
        for model in sorted(apps.get_models(), key=lambda m: m._meta.label)
        if model._meta.managed and not model._meta.proxy
    }


def _safe_relative(name: str) -> PurePosixPath:
    # Storage names come from our own upload_to; still, never write outside the backup folder.
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"存储中的文件名不安全：{name!r}")
    return path


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise BackupError(
            "备份与恢复脚本只用于 PostgreSQL（DATABASE_URL）。嵌入式默认配置（SQLite）请停止"
            " make run 后整体复制 var/ 目录。"
        )


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"找不到 {name}，请安装 PostgreSQL 客户端（postgresql-client）")
    return path


def _libpq_env() -> dict[str, str]:
    """The connection of ``default`` as libpq variables, so that no password is ever on a
    command line (where ``ps`` would show it)."""
    conf = connection.settings_dict
    env = dict(os.environ)
    for variable, value in (
        ("PGDATABASE", conf.get("NAME")),
        ("PGUSER", conf.get("USER")),
        ("PGPASSWORD", conf.get("PASSWORD")),
        ("PGHOST", conf.get("HOST")),
        ("PGPORT", conf.get("PORT")),
    ):
        if value:
            env[variable] = str(value)
    for key, value in (conf.get("OPTIONS") or {}).items():
        if key in {"sslmode", "sslrootcert", "sslcert", "sslkey"}:
            env[f"PG{key.upper()}"] = str(value)
    return env


# --- backup --------------------------------------------------------------------------------------


def back_up(destination: Path) -> tuple[dict[str, Any], Problems]:
    """Write a full backup into the empty folder ``destination``.

    Returns the manifest and the evidence files whose content no longer matches the hash
    recorded at upload (copied all the same: the backup keeps what there is, and says so).
    """
    _require_postgresql()
    destination.mkdir(parents=True, exist_ok=True)
    if any(destination.iterdir()):
        raise BackupError(f"目标目录 {destination} 不是空的")
    pg_dump = _tool("pg_dump")
    dump = destination / DATABASE_DUMP
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        counts = table_counts()
        rows = list(Evidence.objects.order_by("pk").values_list("pk", "file", "sha256"))
        # The snapshot lives as long as this transaction: pg_dump must run inside it.
        result = subprocess.run(  # noqa: S603 # nosec B603
            [pg_dump, "--format=custom", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot}", f"--file={dump}"],
            env=_libpq_env(), capture_output=True, text=True, check=False,
        )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_dump 失败：{result.stderr.strip()}")

    problems = Problems()
    files = []
    for pk, name, recorded in rows:
        target = destination / EVIDENCE_DIR / _safe_relative(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with default_storage.open(name, "rb") as source, target.open("wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
        except FileNotFoundError:
            problems.add(f"佐证材料 #{pk} 的文件 {name} 在存储中不存在")
            continue
        digest = _file_hash(target)
        if digest != recorded:
            problems.add(f"佐证材料 #{pk} 的文件 {name} 与上传时记录的 SHA-256 不一致")
        files.append({"name": name, "size": target.stat().st_size, "sha256": digest})
    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "database": {"file": DATABASE_DUMP, "sha256": _file_hash(dump)},
        "evidence": files,
        "counts": counts,
    }
    (destination / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return manifest, problems


# --- restore -------------------------------------------------------------------------------------


def load_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"无法读取 {source / MANIFEST}：{exc}") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"不认识的备份格式 {manifest.get('format')!r}")
    return manifest


def verify_copy(source: Path) -> Problems:
    """Before restoring: the dump and every file in the backup still match the manifest."""
    manifest = load_manifest(source)
    problems = Problems()
    dump = source / manifest["database"]["file"]
    if not dump.exists():
        problems.add(f"缺少数据库转储 {dump.name}")
    elif _file_hash(dump) != manifest["database"]["sha256"]:
        problems.add(f"数据库转储 {dump.name} 已损坏（SHA-256 不一致）")
    for entry in manifest["evidence"]:
        path = source / EVIDENCE_DIR / _safe_relative(entry["name"])
        if not path.exists():
            problems.add(f"备份中缺少文件 {entry['name']}")
        elif _file_hash(path) != entry["sha256"]:
            problems.add(f"备份中的文件 {entry['name']} 已损坏（SHA-256 不一致）")
    return problems


def restore(source: Path) -> tuple[int, Problems]:
    """Restore the backup in ``source`` into the (empty) database and storage configured now.

    Returns how many files were written and the problems the final check found (none, when
    the restore is complete). Refuses, changing nothing, when the backup is damaged or the
    database is not empty.
    """
    _require_postgresql()
    damaged = verify_copy(source)
    if damaged:
        raise BackupError("备份未通过校验，未做任何恢复：\n" + "\n".join(damaged.lines))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        )  # fmt: skip
        (tables,) = cursor.fetchone()
    if tables:
        raise BackupError(
            "目标数据库不是空的：请先 createdb 一个新数据库，再把 DATABASE_URL 指向它"
        )
    manifest = load_manifest(source)
    connection.close()  # pg_restore works on its own connection; ours reconnects afterwards
    result = subprocess.run(  # noqa: S603 # nosec B603
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", f"--dbname={connection.settings_dict['NAME']}",
         str(source / manifest["database"]["file"])],
        env=_libpq_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise BackupError(f"pg_restore 失败：{result.stderr.strip()}")
    written = _restore_files(source, manifest)
    return written, verify_restored(manifest)


def _restore_files(source: Path, manifest: dict[str, Any]) -> int:
    """Put every file back under its own name. One already there with the same content is left
    alone; one with other content stops the restore (restore into empty storage)."""
    written = 0
    for entry in manifest["evidence"]:
        name = entry["name"]
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as existing:
                if sha256_of(existing) == entry["sha256"]:
                    continue
            raise BackupError(f"存储中已有内容不同的文件 {name}，请恢复到空的存储")
        with (source / EVIDENCE_DIR / _safe_relative(name)).open("rb") as handle:
            saved = default_storage.save(name, File(handle, name=PurePosixPath(name).name))
        if saved != name:  # pragma: no cover - exists() was false a moment ago
            raise BackupError(f"存储把 {name} 保存成了 {saved}")
        written += 1
    return written


def verify_restored(manifest: dict[str, Any]) -> Problems:
    """Every table has the row count of the manifest, and every evidence row's file is in
    storage with the SHA-256 recorded at upload."""
    problems = Problems()
    counts = table_counts()
    for label, expected in manifest["counts"].items():
        if counts.get(label) != expected:
            problems.add(f"表 {label}：备份时 {expected} 行，恢复后 {counts.get(label)} 行")
    for pk, name, recorded in Evidence.objects.order_by("pk").values_list("pk", "file", "sha256"):
        try:
            with default_storage.open(name, "rb") as handle:
                digest = sha256_of(handle)
        except FileNotFoundError:
            problems.add(f"佐证材料 #{pk} 的文件 {name} 未恢复")
            continue
        if digest != recorded:
            problems.add(f"佐证材料 #{pk} 的文件 {name} 与上传时记录的 SHA-256 不一致")
    return problems
