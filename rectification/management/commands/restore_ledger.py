"""python manage.py restore_ledger SRC — restore a backup_ledger backup into an empty database
(DATABASE_URL) and empty evidence storage, then check counts and file hashes.

Usually run as ``scripts/restore.sh SRC``; docs/operations.md has the whole procedure.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rectification import backup


class Command(BaseCommand):
    help = "从 backup_ledger 的备份恢复整改台账到空数据库与空存储，并核对行数与文件哈希。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="备份目录（含 manifest.json）")
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="只校验备份本身（转储与文件的 SHA-256），不恢复",
        )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        source = Path(options["source"])
        try:
            if options["check_only"]:
                problems = backup.verify_copy(source)
                if problems:
                    raise backup.BackupError("备份未通过校验：\n" + "\n".join(problems.lines))
                self.stdout.write(f"备份 {source} 完整：转储与全部文件的 SHA-256 均与清单一致。")
                return
            written, problems = backup.restore(source)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        if problems:
            for line in problems.lines:
                self.stderr.write(line)
            raise CommandError(f"恢复后核对发现 {len(problems.lines)} 处不一致（见上）")
        self.stdout.write(
            f"已从 {source} 恢复：数据库与 {written} 个佐证材料文件；"
            "各表行数与文件 SHA-256 核对一致。"
        )
