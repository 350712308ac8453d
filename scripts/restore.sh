#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database and empty evidence storage,
# then check that every table has the row count of the backup and every evidence file its
# SHA-256. The backup itself is verified first; a damaged one changes nothing.
#
#   createdb -h DBHOST -U OWNER liwan_restored
#   DATABASE_URL=postgres://OWNER@DBHOST:5432/liwan_restored LIWAN_MEDIA_ROOT=/srv/liwan/media \
#     scripts/restore.sh /srv/backups/liwan-20260101-0200
#
#   scripts/restore.sh --check-only BACKUP_DIR     # verify a backup without restoring it
#
# docs/operations.md has the procedure (and the drill: tests/test_backup_restore.py).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  echo "usage: $0 [--check-only] BACKUP_DIR   (DATABASE_URL names the empty target database)" >&2
  exit 2
fi
exec "${PYTHON:-.venv/bin/python}" manage.py restore_ledger "$@"
