"""The embedded default's SQLite under concurrent writers: they wait for each other instead of
failing with "database is locked" (WAL journal, IMMEDIATE transactions, a busy timeout).

Real processes, each with the project's own settings (``liwan.settings``, as `make run` uses
them) against one SQLite file, each running read-then-write transactions — the pattern of every
service (lock the item, read, write an event) that made parallel requests fail.
"""

from __future__ import annotations

import subprocess
import sys

from tests.test_security_settings import ROOT, _env

WRITERS = 6
TRANSACTIONS = 40

WRITER = """
import django
django.setup()
from django.db import connection, transaction
TRANSACTIONS = int(__import__("sys").argv[1])
for n in range(TRANSACTIONS):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM ledger_counter")
            seen = cursor.fetchone()[0]
            cursor.execute("INSERT INTO ledger_counter (seen) VALUES (%s)", [seen])
print("done")
"""

SETUP = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE ledger_counter (id INTEGER PRIMARY KEY, seen INTEGER)")
    cursor.execute("PRAGMA journal_mode")
    print(cursor.fetchone()[0])
"""


def test_it_lets_concurrent_writers_wait_instead_of_failing(tmp_path):
    env = _env(tmp_path)  # liwan.settings on a SQLite file, no other settings of this run
    setup = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert setup.returncode == 0, setup.stderr
    journal = setup.stdout.strip().splitlines()[-1]

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(TRANSACTIONS)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WRITERS)
    ]
    outcomes = [writer.communicate(timeout=120) for writer in writers]

    errors = [err for _out, err in outcomes if err.strip()]
    assert not any("database is locked" in err for err in errors), errors[0][-2000:]
    assert [writer.returncode for writer in writers] == [0] * WRITERS, errors
    count = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.db import connection; "
            "c = connection.cursor(); c.execute('SELECT COUNT(*), MAX(seen) FROM ledger_counter'); "
            "print(*c.fetchone())",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert journal == "wal"
    # Every transaction committed, and each saw all the ones before it (serialised writers).
    assert count.stdout.split() == [str(WRITERS * TRANSACTIONS), str(WRITERS * TRANSACTIONS - 1)]
