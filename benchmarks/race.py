"""Race benchmark: two Celery workers and — deliberately misconfigured — two beats, on one
PostgreSQL database and one Redis, must send every reminder exactly once and log no error.

    python -m benchmarks.race --database-url postgres://postgres@127.0.0.1:5432/liwan_bench

docs/reminders.md promises that any number of workers may sweep at once (plans are idempotent,
claims are conditional UPDATEs) and that a second beat only makes sweeps more frequent. This
module runs exactly that against a copy of the bench database:

1. ``CREATE DATABASE <name>_race TEMPLATE <name>`` (then ``migrate``): the bench data is
   never touched.
2. An SMTP sink (aiosmtpd, a child process) stores every message it accepts.
3. Two workers (solo pool, distinct node names) and two beats (each with its own schedule
   file) on Redis db 14 (flushed first), sweeping every few seconds. Each worker sends with its
   own From address, so every message names the worker that sent it.
4. Wait until the pipeline is quiet: nothing ``sending``, nothing due for anyone not yet mailed
   today, and every worker has finished a whole sweep that began after the last change.
5. Stop beats, then workers (warm shutdown: a running sweep finishes), then the sink; compare
   what the database says was sent with what the sink received; scan the logs.

Everything started here is stopped in a ``finally`` and the copy is dropped. On the 200,000
item bench database the very first sweep does all the work (about 137,000 reminders, 34,000
escalations, 1,000 digests) and takes most of the run.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import email
import email.policy
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zoneinfo
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

from benchmarks.load import PROJECT_DIR, free_port, production_env

# The copy's name: the bench database's name plus this. Only this database is ever dropped:
# at the start, if a killed earlier run left it, and at the end.
COPY_SUFFIX = "_race"
# Redis database of this benchmark alone; it is flushed before the run and after.
REDIS_URL = "redis://127.0.0.1:6379/14"
# liwan/settings.py TIME_ZONE: "one digest a day" means a day in Shanghai.
TIME_ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
# Links in the digests point here; the verification finds the item ids by this prefix.
SITE_BASE_URL = "http://liwan.race.invalid"
ITEM_LINK = re.compile(re.escape(SITE_BASE_URL) + r"/items/(\d+)/")
# A digest lists its most urgent items and counts the rest (templates/emails/reminders/digest.txt).
MORE_LINE = re.compile(r"另有 (\d+) 项未在本邮件中列出")
WORKERS = ("w1", "w2")
BEATS = ("b1", "b2")


# --- the SMTP sink (runs in a child process) -----------------------------------------------------


def _smtp_sink() -> None:
    """``python -c '…_smtp_sink()' PORT SPOOL``: accept every message on 127.0.0.1:PORT and
    append it to SPOOL as one JSON line (envelope, arrival time, raw bytes in base64), until
    SIGTERM. One line per accepted message is the whole record: counting is done afterwards.
    """
    from aiosmtpd.controller import Controller

    port, spool = int(sys.argv[1]), Path(sys.argv[2])
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            record = {
                "received_at": time.time(),
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "data": base64.b64encode(envelope.content).decode("ascii"),
            }
            with lock, spool.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record) + "\n")
            return "250 Message accepted for delivery"

    # The evaluation staff's digest lists every escalated item of the city: allow big messages.
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, data_size_limit=256 * 1024 * 1024
    )
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"smtp sink listening on 127.0.0.1:{port}", flush=True)
    stop.wait()
    controller.stop()


# --- processes -----------------------------------------------------------------------------------


@dataclass
class Child:
    """A process started here, in a session of its own, its output in ``log``."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def kind(self) -> str:
        return self.name.split("-")[0]

    def terminate(self) -> None:
        """SIGTERM: for celery a warm shutdown (the running sweep finishes first)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> bool:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        return self.process.poll() is not None

    def kill(self) -> None:
        """SIGKILL to the process group this module created; only while its leader is still
        alive, so the group id cannot have been reused by anybody else."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_child(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Child:
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Child(name=name, process=process, log=log)


def shutdown(children: list[Child], grace: float) -> list[str]:
    """Beats first (no new sweeps), then both workers at once, then the sink (last, so that a
    sweep finishing during the warm shutdown can still deliver). Returns the children that had
    to be killed: a worker killed mid-send would itself cause the double send of the documented
    at-least-once window, and the result would prove nothing."""
    killed = []
    for kind in ("beat", "worker", "smtp"):
        group = [c for c in children if c.kind == kind]
        for child in group:
            child.terminate()
        deadline = time.monotonic() + grace
        for child in group:
            if not child.wait(max(deadline - time.monotonic(), 0.1)):
                child.kill()
                killed.append(child.name)
    return killed


def wait_for_port(port: int, child: Child, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited:\n{child.log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{child.name} did not listen on {port} in {timeout:.0f} s")


# --- the database copy ---------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@contextlib.contextmanager
def database_copy(source_url: str, wait_seconds: float = 180.0) -> Iterator[str]:
    """A throwaway copy of the source database (CREATE DATABASE … TEMPLATE), dropped at the end.

    PostgreSQL copies a template only while nobody else is connected to it. Other sessions come
    and go, so we retry; after half the wait, connections to the source that have been idle for
    over a minute (a forgotten psql, a pooled connection of a stopped server) are terminated —
    on the source database only, and never one that is running a query.
    """
    source = urlsplit(source_url).path.lstrip("/")
    copy = source + COPY_SUFFIX
    with psycopg.connect(_with_database(source_url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        started = time.monotonic()
        terminated = 0
        while True:
            try:
                admin.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')
                break
            except psycopg.errors.ObjectInUse:
                waited = time.monotonic() - started
                if waited > wait_seconds:
                    raise
                if waited > wait_seconds / 2:
                    terminated += len(
                        admin.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND state = 'idle' "
                            "AND state_change < now() - interval '60 seconds'",
                            (source,),
                        ).fetchall()
                    )
                time.sleep(2)
        if terminated:
            print(f"terminated {terminated} idle connection(s) to {source}", file=sys.stderr)
        try:
            yield _with_database(source_url, copy)
        finally:
            # FORCE: a connection some process of ours left behind must not keep the copy.
            admin.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


def migrate(env: dict[str, str]) -> list[str]:
    """Bring the copy to the schema of the code about to run (``manage.py migrate``): a bench
    database seeded before the latest migration must not turn into errors in the workers.
    Returns the migrations applied (usually none)."""
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"migrate failed on the copy:\n{result.stderr[-3000:]}")
    return re.findall(r"Applying (\S+)\.\.\.", result.stdout)


# --- watching the pipeline -----------------------------------------------------------------------

_SWEEP_DONE = re.compile(
    r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}).*"
    r"Task reminders\.sweep\[([0-9a-f-]+)\] succeeded in ([\d.e-]+)s: (\w+)"
)
_SWEEP_SENT = re.compile(r"Sending due task reminders-sweep")
_DISCARDED = re.compile(r"Discarding revoked task: reminders\.sweep")
_PROBLEM = re.compile(r"\bERROR\b|\bCRITICAL\b|Traceback")
_WARNING = re.compile(r"\bWARNING\b")


@dataclass(frozen=True)
class Sweep:
    worker: str
    # Local time, as celery writes it in the log (naive, like datetime.now()).
    started: datetime.datetime
    finished: datetime.datetime
    found_work: bool

    @property
    def seconds(self) -> float:
        return (self.finished - self.started).total_seconds()


def sweeps_of(worker: Child) -> list[Sweep]:
    """The sweeps a worker finished, from its log: the "succeeded in Ns: True|False" line gives
    the end, the run time and whether the sweep found work (planned, claimed or recovered)."""
    found: dict[str, Sweep] = {}
    for line in worker.log.read_text(errors="replace").splitlines():
        match = _SWEEP_DONE.search(line)
        if match:
            stamp, task_id, runtime, value = match.groups()
            finished = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
            found[task_id] = Sweep(
                worker=worker.name,
                started=finished - datetime.timedelta(seconds=float(runtime)),
                finished=finished,
                found_work=value == "True",
            )
    return sorted(found.values(), key=lambda s: s.started)


def overlap_seconds(a: list[Sweep], b: list[Sweep]) -> float:
    """How long both workers were inside a sweep at the same time: the race actually ran."""
    total = 0.0
    for x in a:
        for y in b:
            start, end = max(x.started, y.started), min(x.finished, y.finished)
            if end > start:
                total += (end - start).total_seconds()
    return round(total, 1)


def day_start() -> datetime.datetime:
    today = datetime.datetime.now(TIME_ZONE).date()
    return datetime.datetime.combine(today, datetime.time(), tzinfo=TIME_ZONE)


@dataclass(frozen=True)
class Snapshot:
    by_status: dict[str, int]
    # Pending, due now, for someone who has not had today's digest: work a sweep would do.
    due_now: int
    # Pending only because the person already had today's digest (services.due_batches).
    deferred_to_tomorrow: int


def snapshot(db: psycopg.Connection[Any]) -> Snapshot:
    by_status = dict(
        db.execute("SELECT status, count(*) FROM reminders_reminder GROUP BY status").fetchall()
    )
    mailed_today = (
        "SELECT recipient_id FROM reminders_reminder WHERE status = 'sent' AND sent_at >= %(day)s"
    )
    due_now, deferred = db.execute(
        "SELECT count(*) FILTER (WHERE recipient_id NOT IN (" + mailed_today + ")), "
        "       count(*) FILTER (WHERE recipient_id IN (" + mailed_today + ")) "
        "FROM reminders_reminder WHERE status = 'pending' AND next_attempt_at <= now()",
        {"day": day_start()},
    ).fetchone() or (0, 0)
    return Snapshot(by_status=by_status, due_now=due_now, deferred_to_tomorrow=deferred)


@dataclass
class Watch:
    quiet: bool = False
    elapsed_s: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)


def wait_until_quiet(
    db: psycopg.Connection[Any], workers: list[Child], children: list[Child], *, timeout: float
) -> Watch:
    """Poll until the pipeline is quiet: nothing sending, nothing due, and the reminder counts
    unchanged since before the start of a sweep that every worker has since finished. A sweep
    that is still planning inserts nothing until it gets there, so "no change for N seconds"
    would not do: the proof is a whole sweep per worker that found the state as it is."""
    watch = Watch()
    started = time.monotonic()
    stable: tuple[Snapshot, datetime.datetime] | None = None
    next_log = 0.0
    while (elapsed := time.monotonic() - started) < timeout:
        for child in children:
            if child.process.poll() is not None:
                raise RuntimeError(
                    f"{child.name} exited early (code {child.process.returncode}):\n"
                    + "\n".join(child.log.read_text(errors="replace").splitlines()[-20:])
                )
        state = snapshot(db)
        sweeps = {w.name: sweeps_of(w) for w in workers}
        if elapsed >= next_log:
            next_log += 30
            watch.history.append(
                {"t_s": round(elapsed), "by_status": state.by_status, "due_now": state.due_now}
                | {f"sweeps_{name}": len(found) for name, found in sweeps.items()}
            )
        if state.by_status.get("sending", 0) or state.due_now:
            stable = None
        elif stable is None or stable[0] != state:
            stable = (state, datetime.datetime.now())
        elif all(any(s.started >= stable[1] for s in found) for found in sweeps.values()):
            watch.quiet = True
            break
        time.sleep(1)
    watch.elapsed_s = round(time.monotonic() - started, 1)
    return watch


# --- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    worker: str
    to: tuple[str, ...]
    items: tuple[int, ...]
    size: int
    received_at: float
    # Items the digest counts without listing them (beyond ``DIGEST_MAX_ITEMS``).
    more: int = 0


def read_spool(spool: Path) -> list[Mail]:
    mails: list[Mail] = []
    if not spool.exists():
        return mails
    for line in spool.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        raw = base64.b64decode(record["data"])
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        # "noreply-w1@…" → "w1": the From address each worker was given.
        sender = re.search(r"noreply-(\w+)@", record["mail_from"])
        mails.append(
            Mail(
                worker=sender.group(1) if sender else "?",
                to=tuple(sorted(a.lower() for a in record["rcpt_tos"])),
                items=tuple(int(i) for i in ITEM_LINK.findall(text)),
                size=len(raw),
                received_at=record["received_at"],
                more=sum(int(n) for n in MORE_LINE.findall(text)),
            )
        )
    return mails


def _unlisted_beyond_counts(
    sent: set[tuple[str, int]], mailed: Counter[tuple[str, int]], mails: list[Mail]
) -> int:
    """Sent (address, item) pairs no mail listed, beyond the items the mails to that address
    said they left out; the difference either way."""
    unlisted = Counter(address for address, item in sent - set(mailed))
    counted = Counter()
    for mail in mails:
        for address in mail.to:
            counted[address] += mail.more
    return sum(abs(unlisted[a] - counted[a]) for a in set(unlisted) | set(counted))


def verify(db: psycopg.Connection[Any], mails: list[Mail]) -> dict[str, Any]:
    """Exactly once, from both ends.

    The database: every sent row carries the address used and ``sent_at``; all rows of one
    digest are recorded by one UPDATE, so (recipient, sent_at) names a digest the database
    believes it sent. The sink: every message, with the items its links name (one line per
    item, services.digest_entries). They must match one to one: each sent (address, item) in
    exactly one message, no message naming an item the database does not record as sent to
    that address, as many messages as recorded digests. Separately, the design's promise of at
    most one digest per person per day.
    """
    rows = db.execute(
        "SELECT lower(email), recipient_id, item_id, sent_at, attempts "
        "FROM reminders_reminder WHERE status = 'sent'"
    ).fetchall()
    db_digests = {(recipient, sent_at) for _, recipient, _, sent_at, _ in rows}
    sent_pairs = {(address, item) for address, _, item, _, _ in rows}
    shared_keys = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM reminders_reminder "
        "GROUP BY item_id, recipient_id, rule, period HAVING count(*) > 1) AS d"
    ).fetchone()

    mailed_pairs: Counter[tuple[str, int]] = Counter()
    for mail in mails:
        for address in mail.to:
            # An item is one line of a digest whatever the number of rules behind it.
            mailed_pairs.update((address, item) for item in set(mail.items))
    per_address = Counter(address for mail in mails for address in mail.to)
    largest = max(mails, key=lambda m: m.size, default=None)
    return {
        "emails_received": len(mails),
        "emails_by_worker": dict(sorted(Counter(m.worker for m in mails).items())),
        "digests_recorded_in_db": len(db_digests),
        "recipients_mailed": len(per_address),
        "item_lines_in_emails": sum(len(m.items) for m in mails),
        "sent_reminder_rows": len(rows),
        "sent_recipient_item_pairs": len(sent_pairs),
        "largest_email_kb": round(largest.size / 1024) if largest else 0,
        # The exactly-once checks proper: each must be 0.
        "duplicates": {
            "recipient_item_in_more_than_one_email": sum(1 for n in mailed_pairs.values() if n > 1),
            "item_repeated_within_one_email": sum(len(m.items) - len(set(m.items)) for m in mails),
            "emails_minus_recorded_digests": len(mails) - len(db_digests),
            "received_but_not_recorded_sent": len(set(mailed_pairs) - sent_pairs),
            "rows_sharing_idempotency_key": shared_keys[0] if shared_keys else 0,
        },
        # Not duplicates, but the same promise broken the other way: must be 0 too. A sent item
        # a digest counts without listing it (its "另有 N 项" line) was received as a number:
        # per address, the unlisted sent items must be exactly the numbers their mails gave.
        "sent_but_not_received": _unlisted_beyond_counts(sent_pairs, mailed_pairs, mails),
        "counted_not_listed": sum(m.more for m in mails),
        # One digest a day per person (docs/reminders.md).
        "recipients_with_more_than_one_email": sum(1 for n in per_address.values() if n > 1),
        # Every row should have been claimed once: a second attempt means a retry or a recovery.
        "sent_rows_with_more_than_one_attempt": sum(1 for *_, attempts in rows if attempts > 1),
    }


def scan_logs(children: list[Child]) -> dict[str, Any]:
    problems: list[str] = []
    warnings: Counter[str] = Counter()
    for child in children:
        for line in child.log.read_text(errors="replace").splitlines():
            if _PROBLEM.search(line):
                problems.append(f"{child.name}: {line.strip()}"[:300])
            elif _WARNING.search(line):
                # Grouped by message, without the timestamp and the numbers that vary.
                message = re.sub(r"^.*?WARNING\S*\s*", "", line)
                warnings[re.sub(r"#?\d+", "N", message)[:160]] += 1
    return {
        "error_lines": len(problems),
        "error_samples": problems[:20],
        "warning_lines": sum(warnings.values()),
        "warning_kinds": dict(warnings.most_common(10)),
    }


# --- the benchmark -------------------------------------------------------------------------------


def run(
    database_url: str,
    *,
    sweep_seconds: int = 5,
    timeout: float = 1800.0,
    shutdown_grace: float = 1800.0,
    lease_seconds: int | None = None,
    keep_logs: Path | None = None,
) -> dict[str, Any]:
    """Race two workers and two beats on a copy of ``database_url``; see the module docstring.

    ``timeout`` bounds the wait for quiet; ``shutdown_grace`` how long a worker may take to
    finish its running sweep once told to stop. ``lease_seconds`` overrides
    LIWAN_REMINDER_CLAIM_LEASE_SECONDS (default: the application's). ``keep_logs`` copies the
    workers', beats' and sink's logs there.
    """
    wall_start = time.monotonic()
    date_at_start = datetime.datetime.now(TIME_ZONE).date()
    broker = redis.Redis.from_url(REDIS_URL)
    children: list[Child] = []
    with tempfile.TemporaryDirectory(prefix="liwan-race-") as tmp_name:
        tmp = Path(tmp_name)
        copy_started = time.monotonic()
        with database_copy(database_url) as race_url:
            copy_seconds = round(time.monotonic() - copy_started, 1)
            broker.flushdb()
            spool = tmp / "mail.jsonl"
            smtp_port = free_port()
            env = production_env(race_url, tmp, secrets.token_urlsafe(50)) | {
                "CELERY_BROKER_URL": REDIS_URL,
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp_port),
                "EMAIL_TIMEOUT": "30",
                "LIWAN_REMINDER_SWEEP_SECONDS": str(sweep_seconds),
                "LIWAN_SITE_BASE_URL": SITE_BASE_URL,
                # INFO: the worker's "Task … succeeded" lines are how sweeps are counted.
                "LIWAN_LOG_LEVEL": "INFO",
                # Celery's Django fix-up closes the connection after each task anyway.
                "DATABASE_CONN_MAX_AGE": "0",
            }
            if lease_seconds is not None:
                env["LIWAN_REMINDER_CLAIM_LEASE_SECONDS"] = str(lease_seconds)
            migrate_started = time.monotonic()
            migrations = migrate(env)
            migrate_seconds = round(time.monotonic() - migrate_started, 1)
            try:
                sink_code = "from benchmarks.race import _smtp_sink; _smtp_sink()"
                sink = start_child(
                    "smtp-sink",
                    [sys.executable, "-c", sink_code, str(smtp_port), str(spool)],
                    env,
                    tmp,
                )
                children.append(sink)
                wait_for_port(smtp_port, sink)
                started_at = time.time()
                celery = [sys.executable, "-m", "celery", "-A", "liwan"]
                for name in WORKERS:
                    worker_env = env | {
                        # The sink tells the workers apart by the envelope sender.
                        "DEFAULT_FROM_EMAIL": f"整改台账 race {name} <noreply-{name}@liwan.local>"
                    }
                    worker = [
                        *celery,
                        "worker",
                        "--pool=solo",
                        f"--hostname=race-{name}@%h",
                        "--without-mingle",
                        "--without-gossip",
                        # One sweep reserved at a time: a busy worker does not hoard the next
                        # sweeps while the other one idles, so the two really run together.
                        "--prefetch-multiplier=1",
                        "--loglevel=INFO",
                    ]
                    children.append(start_child(f"worker-{name}", worker, worker_env, tmp))
                for name in BEATS:
                    beat = [
                        *celery,
                        "beat",
                        f"--schedule={tmp / f'beat-{name}-schedule'}",
                        f"--pidfile={tmp / f'beat-{name}.pid'}",
                        "--loglevel=INFO",
                    ]
                    children.append(start_child(f"beat-{name}", beat, env, tmp))
                workers = [c for c in children if c.kind == "worker"]
                with psycopg.connect(race_url, autocommit=True) as db:
                    watch = wait_until_quiet(db, workers, children, timeout=timeout)
                    # Everything stops before the final count: no sweep may run meanwhile.
                    killed = shutdown(children, shutdown_grace)
                    final = snapshot(db)
                    mails = read_spool(spool)
                    delivery = verify(db, mails)
                    escalated = db.execute(
                        "SELECT count(*) FROM rectification_rectificationitem "
                        "WHERE escalated_at IS NOT NULL"
                    ).fetchone()
                    skipped = dict(
                        db.execute(
                            "SELECT skip_reason, count(*) FROM reminders_reminder "
                            "WHERE status = 'skipped' GROUP BY skip_reason"
                        ).fetchall()
                    )
            finally:
                for child in children:
                    child.terminate()
                for child in children:
                    if not child.wait(30):
                        child.kill()
                if keep_logs is not None:
                    keep_logs.mkdir(parents=True, exist_ok=True)
                    for child in children:
                        shutil.copy(child.log, keep_logs / child.log.name)
            sweeps = {w.name: sweeps_of(w) for w in workers}
            beat_sends = sum(
                len(_SWEEP_SENT.findall(c.log.read_text(errors="replace")))
                for c in children
                if c.kind == "beat"
            )
            discarded = sum(
                len(_DISCARDED.findall(w.log.read_text(errors="replace"))) for w in workers
            )
            logs = scan_logs(children)
        broker.flushdb()
    broker.close()

    arrivals = sorted(m.received_at - started_at for m in mails)
    all_sweeps = [s for found in sweeps.values() for s in found]
    later = [s.seconds for s in all_sweeps if not s.found_work]
    duplicates = sum(delivery["duplicates"].values())
    return {
        "benchmark": "race",
        "setup": {
            "workers": len(WORKERS),
            "beats": len(BEATS),
            "worker_pool": "solo, prefetch multiplier 1",
            "sweep_interval_s": sweep_seconds,
            "claim_lease_s": lease_seconds or "application default",
            "broker": REDIS_URL,
            "database": "copy of the bench database (CREATE DATABASE … TEMPLATE)",
            "database_copy_s": copy_seconds,
            "migrations_applied_to_copy": migrations,
            "migrate_s": migrate_seconds,
        },
        "quiet": watch.quiet,
        # From starting the workers and beats until quiet was established.
        "elapsed_s": watch.elapsed_s,
        "wall_s": round(time.monotonic() - wall_start, 1),
        "killed_at_shutdown": killed,
        "sweeps": {
            "sent_by_beats": beat_sends,
            "finished": {name: len(found) for name, found in sweeps.items()},
            "found_work": {
                name: sum(1 for s in found if s.found_work) for name, found in sweeps.items()
            },
            "first_sweep_s": {
                name: round(found[0].seconds, 1) if found else None
                for name, found in sweeps.items()
            },
            "idle_sweep_median_s": round(statistics.median(later), 1) if later else None,
            "expired_and_discarded": discarded,
            "both_workers_sweeping_s": overlap_seconds(*sweeps.values()),
        },
        # Seconds after the workers and beats were started.
        "first_email_at_s": round(arrivals[0], 1) if arrivals else None,
        "last_email_at_s": round(arrivals[-1], 1) if arrivals else None,
        "reminders": {
            "planned": sum(final.by_status.values()),
            "by_status": final.by_status,
            "sent": final.by_status.get("sent", 0),
            "failed": final.by_status.get("failed", 0),
            "left_sending": final.by_status.get("sending", 0),
            "pending_due_now": final.due_now,
            "pending_deferred_to_tomorrow": final.deferred_to_tomorrow,
            "skipped_by_reason": skipped,
            "items_escalated": escalated[0] if escalated else 0,
        },
        "delivery": delivery,
        "duplicates_found": duplicates,
        "logs": logs,
        "progress": watch.history,
        "crossed_midnight_in_shanghai": datetime.datetime.now(TIME_ZONE).date() != date_at_start,
        "ok": watch.quiet
        and not killed
        and duplicates == 0
        and delivery["sent_but_not_received"] == 0
        and logs["error_lines"] == 0
        and final.by_status.get("failed", 0) == 0
        and final.by_status.get("sending", 0) == 0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the bench database (copied)")
    parser.add_argument("--sweep-seconds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=1800.0, help="wait for quiet, seconds")
    parser.add_argument("--lease-seconds", type=int, default=None)
    parser.add_argument("--keep-logs", type=Path, default=None, help="copy the logs here")
    args = parser.parse_args(argv)
    report = run(
        args.database_url,
        sweep_seconds=args.sweep_seconds,
        timeout=args.timeout,
        lease_seconds=args.lease_seconds,
        keep_logs=args.keep_logs,
    )
    # One line: benchmarks/run.py takes the last line of output that starts with "{".
    print(json.dumps(report, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
