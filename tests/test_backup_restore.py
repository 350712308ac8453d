"""The backup drill: scripts/backup.sh while the site is in use, scripts/restore.sh into a fresh
database and empty evidence storage, then every table's row count and every evidence file's
SHA-256 compared with the original. A damaged backup is refused before anything is touched.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from rectification import backup, services
from rectification.models import Evidence
from rectification.uploads import check_evidence
from tests import factories, images, workflow

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _conninfo(dbname: str) -> dict:
    conf = connection.settings_dict
    return {
        "host": conf["HOST"] or "127.0.0.1",
        "port": conf["PORT"] or 5432,
        "user": conf["USER"],
        "password": conf.get("PASSWORD") or None,
        "dbname": dbname,
    }


def _url(dbname: str) -> str:
    info = _conninfo(dbname)
    return f"postgres://{info['user']}@{info['host']}:{info['port']}/{dbname}"


def _env(*, dbname: str, media: Path, var: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "LIWAN_", "DATABASE_", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="liwan.settings",
        DATABASE_URL=_url(dbname),
        LIWAN_MEDIA_ROOT=str(media),
        LIWAN_VAR_DIR=str(var),
        PYTHON=str(Path(os.sys.executable)),
    )
    if connection.settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = connection.settings_dict["PASSWORD"]
    return env


def _run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _counts(dbname: str) -> dict[str, int]:
    """Row counts of every table of the public schema, read with SQL of our own."""
    with psycopg.connect(**_conninfo(dbname)) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in tables
        }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pdf(size: int) -> bytes:
    """A PDF of random bytes (so no two files compress alike). Without "<": by chance random
    bytes spell "<a " or "<img" now and then, and the upload check then rightly refuses the
    file as a web page wearing a PDF header."""
    return b"%PDF-1.4\n" + os.urandom(size).replace(b"<", b"-") + b"\n%%EOF\n"


@pytest.fixture
def ledger_in_use():
    """Four items of three units, work done on two of them, five evidence files uploaded."""
    items = [factories.ItemFactory() for _ in range(3)]
    items.append(
        factories.ItemFactory(recommendation__finding__result__project__unit=items[0].unit)
    )
    files = [
        ("整改方案.pdf", _pdf(2048)),
        ("现场照片.png", images.png()),
        ("会议纪要.pdf", _pdf(4096)),
    ]
    for item, batch in zip(items[:2], (files, files[:2]), strict=True):
        member = factories.UnitStaffFactory(unit=item.unit)
        actor = services.Actor(user=member, ip="10.0.0.2")
        # A staged plan with a milestone: the new tables travel through the drill too.
        workflow.plan_accepted(
            item,
            actor,
            measures="一是建立制度；二是落实责任。",
            rectification_type="staged",
            milestones=[
                services.PlannedMilestone("建立制度", item.deadline or datetime.date(2099, 6, 30))
            ],
        )
        services.add_progress(
            item=item,
            actor=actor,
            note="已完成整改",
            files=[check_evidence(SimpleUploadedFile(n, d)) for n, d in batch],
        )
    assert Evidence.objects.count() == 5


@pytest.fixture
def fresh_database():
    name = f"liwan_drill_{uuid.uuid4().hex[:10]}"
    admin = _conninfo("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_drill_restores_every_row_and_every_file(ledger_in_use, fresh_database, tmp_path):
    source_db = connection.settings_dict["NAME"]
    source_media = Path(django_settings.MEDIA_ROOT)
    target = tmp_path / "backup"

    made = _run(
        "backup.sh",
        str(target),
        env=_env(dbname=source_db, media=source_media, var=tmp_path / "var1"),
    )
    assert made.returncode == 0, made.stderr
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["evidence"]) == 5
    assert manifest["counts"]["rectification.Evidence"] == 5
    assert manifest["counts"]["rectification.RectificationItem"] == 4

    restored_media = tmp_path / "restored-media"
    restored = _run(
        "restore.sh",
        str(target),
        env=_env(dbname=fresh_database, media=restored_media, var=tmp_path / "var2"),
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "核对一致" in restored.stdout

    # Our own comparison, independent of the script's: every table, every row count…
    original, copy = _counts(source_db), _counts(fresh_database)
    assert copy == original
    # Per item worked on: plan submitted, plan accepted, progress.
    assert copy["rectification_event"] == original["rectification_event"] == 6
    assert copy["rectification_rectificationplan"] == copy["rectification_milestone"] == 2
    # …every evidence file, byte for byte (hash), under the same name.
    for evidence in Evidence.objects.all():
        before = source_media / evidence.file.name
        after = restored_media / evidence.file.name
        assert _sha256(after) == _sha256(before) == evidence.sha256
    # The audit trail's guard came along: the restored events are append-only too.
    with psycopg.connect(**_conninfo(fresh_database)) as conn, pytest.raises(psycopg.Error):
        conn.execute("DELETE FROM rectification_event")


def test_a_damaged_backup_is_refused_before_anything_is_restored(
    ledger_in_use, fresh_database, tmp_path
):
    source = _env(
        dbname=connection.settings_dict["NAME"],
        media=Path(django_settings.MEDIA_ROOT),
        var=tmp_path / "var1",
    )
    target = tmp_path / "backup"
    assert _run("backup.sh", str(target), env=source).returncode == 0
    victim = next((target / backup.EVIDENCE_DIR).rglob("*.pdf"))
    victim.write_bytes(victim.read_bytes()[:-1] + b"X")

    checked = _run("restore.sh", "--check-only", str(target), env=source)
    assert checked.returncode != 0
    assert "已损坏" in checked.stderr

    restored = _run(
        "restore.sh",
        str(target),
        env=_env(dbname=fresh_database, media=tmp_path / "m", var=tmp_path / "var2"),
    )
    assert restored.returncode != 0
    assert "未做任何恢复" in restored.stderr
    assert _counts(fresh_database) == {}, "the target database was not touched"
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").rglob("*.*"))


def test_it_refuses_to_restore_over_a_database_in_use(ledger_in_use, tmp_path):
    env = _env(
        dbname=connection.settings_dict["NAME"],
        media=Path(django_settings.MEDIA_ROOT),
        var=tmp_path / "var",
    )
    assert _run("backup.sh", str(tmp_path / "backup"), env=env).returncode == 0
    refused = _run("restore.sh", str(tmp_path / "backup"), env=env)
    assert refused.returncode != 0
    assert "目标数据库不是空的" in refused.stderr


def test_it_refuses_to_write_a_backup_into_a_folder_that_is_not_empty(ledger_in_use, tmp_path):
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "old.txt").write_text("x")
    env = _env(
        dbname=connection.settings_dict["NAME"],
        media=Path(django_settings.MEDIA_ROOT),
        var=tmp_path / "var",
    )
    made = _run("backup.sh", str(tmp_path / "backup"), env=env)
    assert made.returncode != 0
    assert "不是空的" in made.stderr
