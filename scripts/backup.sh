#!/usr/bin/env bash
# Back up the ledger: a consistent pg_dump of the database plus every evidence file (read through
# Django's storage API, so the media folder and S3 alike), with manifest.json holding the SHA-256
# of each and the row count of every table. docs/operations.md has the procedure.
#
#   scripts/backup.sh /srv/backups/liwan-$(date +%Y%m%d-%H%M)
#
# Runs with the application's own environment (DATABASE_URL, LIWAN_MEDIA_ROOT or the S3
# variables…), e.g. `set -a; . /etc/liwan/env; set +a` first. Needs pg_dump of the server's
# major version or newer. Exit status 0 only when everything was copied and matched.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ne 1 ]; then
  echo "usage: $0 DEST_DIR   (DEST_DIR must not exist or be empty)" >&2
  exit 2
fi
exec "${PYTHON:-.venv/bin/python}" manage.py backup_ledger "$1"
