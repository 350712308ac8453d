"""python manage.py backup_ledger DEST — the database and every evidence file, with a manifest.

Usually run as ``scripts/backup.sh DEST``; docs/operations.md has the whole procedure.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rectification import backup


class Command(BaseCommand):
    help = "备份整改台账：数据库转储（pg_dump）与全部佐证材料文件，附校验清单 manifest.json。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("destination", help="备份目录（必须不存在或为空）")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        destination = Path(options["destination"])
        try:
            manifest, problems = backup.back_up(destination)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["counts"].values())
        self.stdout.write(
            f"已备份到 {destination}：数据库 {len(manifest['counts'])} 张表共 {rows} 行，"
            f"佐证材料 {len(manifest['evidence'])} 个文件。"
        )
        if problems:
            # The backup is complete as far as it goes; the operator must look at these files.
            for line in problems.lines:
                self.stderr.write(line)
            raise CommandError(f"备份已完成，但有 {len(problems.lines)} 个文件需要核查（见上）")
