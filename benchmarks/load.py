"""Load benchmark: the ledger list (``/``) against ``/healthz`` under gunicorn, measured by wrk.

    python -m benchmarks.load --database-url postgres://postgres@127.0.0.1:5432/liwan_bench

``run()`` starts one gunicorn with production settings (DEBUG off, sync workers), gives the
evaluation staff account ``scale.pingjia`` (who sees every item) a session, checks that its
cookie really opens the ledger, then loads ``/healthz`` and ``/`` with wrk in turn.
``run_two_instances()`` starts two gunicorns on the same database and loads both at once, the
way two application servers behind a load balancer would share PostgreSQL.

The database is only read: the one row written is the benchmark's own session (plus the
middleware's once-a-minute touch of it), and it is deleted at the end. Every gunicorn started
here is stopped in a ``finally``, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

PROJECT_DIR = Path(__file__).resolve().parent.parent
LUA_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"
# The evaluation staff account of ``manage.py seed_scale``: it sees all units, so the ledger
# counts and pages through every item, the heaviest list a real user can ask for.
BENCH_USERNAME = "scale.pingjia"
LEDGER_PATH = "/"
HEALTHZ_PATH = "/healthz"
DASHBOARD_PATH = "/dashboard/"
WRK_MARKER = "WRK_REPORT_JSON "
# wrk gives up on a request after 2 s by default and leaves it out of the latency histogram,
# which would hide exactly the slow tail we want to see. 30 s is gunicorn's worker timeout:
# a request slower than that is killed by the server anyway.
WRK_TIMEOUT_SECONDS = 30
GUNICORN_TIMEOUT_SECONDS = 30


def default_workers() -> int:
    """gunicorn's rule of thumb for sync workers, 2 × cores + 1: while one worker waits on
    PostgreSQL another can use the core."""
    return 2 * len(os.sched_getaffinity(0)) + 1


# --- environment ---------------------------------------------------------------------------------


def production_env(database_url: str, var_dir: Path, secret_key: str) -> dict[str, str]:
    """The environment of a production process (liwan/settings.py reads nothing else), on
    plain http on the loopback. Built from scratch rather than copied from ours, so that a
    stray DJANGO_*/LIWAN_* variable of the calling shell cannot change what is measured."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(var_dir)),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "liwan.settings",
        "DJANGO_DEBUG": "false",
        # Every process of one run shares the key: the session cookie is signed with it.
        "DJANGO_SECRET_KEY": secret_key,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # No TLS in front of gunicorn here; with the redirect on, every request would be a 301.
        "LIWAN_SECURE_SSL_REDIRECT": "false",
        # The measured session is written by hand (below) without a second factor; what is
        # measured is the pages, not the sign-in.
        "LIWAN_REQUIRE_2FA": "false",
        "DATABASE_URL": database_url,
        # Persistent connections, as in production: without them every request would pay for
        # a new PostgreSQL connection, which is not what a deployed server does.
        "DATABASE_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
        "LIWAN_VAR_DIR": str(var_dir),
        "LIWAN_MEDIA_ROOT": str(var_dir / "media"),
        # Warnings and errors only: a log line per request would cost more than some views.
        "LIWAN_LOG_LEVEL": "WARNING",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- gunicorn ------------------------------------------------------------------------------------


@dataclass
class Server:
    """One running gunicorn (master and workers in a process group of their own)."""

    process: subprocess.Popen[bytes]
    port: int
    workers: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_problems(self) -> list[str]:
        """Lines of the error log that say something went wrong in the server."""
        if not self.log_path.exists():
            return []
        pattern = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|WORKER TIMEOUT|Worker .* died")
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if pattern.search(line)]


def start_server(env: dict[str, str], workers: int, log_dir: Path) -> Server:
    port = free_port()
    log_path = log_dir / f"gunicorn-{port}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "liwan.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        str(GUNICORN_TIMEOUT_SECONDS),
        # No access log (it would be the bottleneck of /healthz). gunicorn's own messages,
        # Django's log and any traceback all go to stderr, and stderr to the log file.
        "--error-logfile",
        "-",
        "--log-level",
        "warning",
    ]
    with log_path.open("wb") as log:
        # A session of its own: stop_server() can then signal master and workers as a group.
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process=process, port=port, workers=workers, log_path=log_path)
    try:
        wait_until_healthy(server)
    except BaseException:
        stop_server(server)
        raise
    return server


def wait_until_healthy(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start-up:\n{_tail(server.log_path)}")
        with contextlib.suppress(OSError):
            status, _ = http_get(server.port, HEALTHZ_PATH)
            if status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz in {timeout:.0f} s")


def stop_server(server: Server) -> None:
    """SIGTERM to the master (graceful: workers finish their request), then SIGKILL to the
    whole group if it lingers. Only the group this module created is signalled."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=GUNICORN_TIMEOUT_SECONDS + 5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=10)


@contextlib.contextmanager
def running_servers(
    env: dict[str, str], count: int, workers: int, log_dir: Path
) -> Iterator[list[Server]]:
    servers: list[Server] = []
    try:
        for _ in range(count):
            servers.append(start_server(env, workers, log_dir))
        yield servers
    finally:
        for server in servers:
            stop_server(server)


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def http_get(port: int, path: str, cookie: str | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", errors="replace")
    finally:
        connection.close()


# --- the benchmark's session ---------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    cookie_name: str
    key: str

    @property
    def header(self) -> str:
        return f"{self.cookie_name}={self.key}"


def _session_helper() -> None:
    """Runs in a child process with the production environment (see ``create_session``):
    ``create USERNAME`` prints the cookie as JSON, ``delete KEY`` removes the session.

    The session is written the way ``django.contrib.auth.login`` would store it, but without
    logging in: a real login would also update ``last_login`` and write django-axes' access
    log, and this benchmark leaves the bench database as it found it.
    """
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    action, argument = sys.argv[1], sys.argv[2]
    if action == "create":
        user = get_user_model().objects.get(username=argument, is_active=True)
        session = store_class()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        # The backend a password login ends up with: axes' backend only vets the attempt.
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        print(json.dumps({"cookie_name": settings.SESSION_COOKIE_NAME, "key": session.session_key}))
    elif action == "delete":
        store_class(session_key=argument).delete()
    else:
        raise SystemExit(f"unknown action {action!r}")


_SESSION_HELPER_CODE = "from benchmarks.load import _session_helper; _session_helper()"


def _run_session_helper(env: dict[str, str], *args: str) -> str:
    # A child process, not django.setup() here: the orchestrator importing this module must not
    # end up with Django configured (and its environment changed) as a side effect.
    result = subprocess.run(
        [sys.executable, "-c", _SESSION_HELPER_CODE, *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"session helper {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def check_migrated(env: dict[str, str]) -> None:
    """Refuse to measure a database that is behind the code: every ledger request would be an
    error page (a missing column), and wrk would report that as the ledger's speed. Read-only:
    ``migrate --check`` only compares the migration table with the code."""
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check", "--noinput"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pending = re.findall(r"^\s+(\S+\.\S+)$", result.stdout, re.MULTILINE)
        raise RuntimeError(
            "the database has unapplied migrations (run manage.py migrate on it first): "
            + (", ".join(pending) or result.stdout[-1000:] + result.stderr[-1000:])
        )


def create_session(env: dict[str, str], username: str = BENCH_USERNAME) -> Session:
    data = json.loads(_run_session_helper(env, "create", username).strip().splitlines()[-1])
    return Session(cookie_name=data["cookie_name"], key=data["key"])


def delete_session(env: dict[str, str], session: Session) -> None:
    _run_session_helper(env, "delete", session.key)


_TOTAL_RE = re.compile(r'id="status-counts".*?fs-5 fw-semibold">([\d,]+)<', re.DOTALL)


def verify_session(server: Server, session: Session) -> int:
    """The cookie must open the ledger itself (200 and its table), not the login page (302):
    otherwise wrk would measure a redirect. Returns the item count the page shows."""
    status, body = http_get(server.port, LEDGER_PATH, session.header)
    if status != 200 or 'id="ledger-table"' not in body:
        raise RuntimeError(f"the session does not open the ledger: HTTP {status}")
    match = _TOTAL_RE.search(body)
    return int(match.group(1).replace(",", "")) if match else -1


# --- wrk -----------------------------------------------------------------------------------------


def wrk_command(
    url: str, *, threads: int, connections: int, duration: int, cookie: str | None
) -> list[str]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={WRK_TIMEOUT_SECONDS}s",
        "-s",
        str(LUA_SCRIPT),
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    return [*command, url]


def start_wrk(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_wrk(process: subprocess.Popen[str], duration: int) -> dict[str, Any]:
    """Wait for a wrk process and turn its report line into the result dict."""
    try:
        stdout, stderr = process.communicate(timeout=duration + WRK_TIMEOUT_SECONDS + 30)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith(WRK_MARKER)]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed (exit {process.returncode}):\n{stdout}\n{stderr}")
    raw = json.loads(lines[-1][len(WRK_MARKER) :])
    return summarise(raw)


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    seconds = raw["duration_us"] / 1e6
    requests = raw["requests"]
    errors = {
        "connect": raw["errors_connect"],
        "read": raw["errors_read"],
        "write": raw["errors_write"],
        # Careful: wrk adds 1 per connection still waiting past --timeout at each of its
        # 2-second checks, so this counts "connection-checks", not distinct requests.
        "timeout": raw["errors_timeout"],
        # wrk's own count (status >= 400), kept for reference; non2xx includes it.
        "status_4xx_5xx": raw["errors_status"],
        "non2xx": raw["non2xx"],
    }
    # Socket errors and every response outside 2xx (a 302 to the login page included).
    errors["total"] = sum(errors[k] for k in ("connect", "read", "write", "timeout", "non2xx"))

    def ms(us: float) -> float:
        return round(us / 1000, 2)

    return {
        "requests": requests,
        "duration_s": round(seconds, 2),
        "requests_per_sec": round(requests / seconds, 2),
        "ok_requests_per_sec": round((requests - raw["non2xx"]) / seconds, 2),
        "transfer_mb": round(raw["bytes"] / 1e6, 1),
        "latency_ms": {
            "p50": ms(raw["latency_p50_us"]),
            "p90": ms(raw["latency_p90_us"]),
            "p95": ms(raw["latency_p95_us"]),
            "p99": ms(raw["latency_p99_us"]),
            "mean": ms(float(raw["latency_mean_us"])),
            "max": ms(raw["latency_max_us"]),
        },
        "errors": errors,
        "non2xx_by_status": raw["non2xx_by_status"],
        # Used to merge concurrent runs; dropped from the published result.
        "_grid_us": raw["latency_grid_us"],
    }


def run_wrk(
    url: str, *, threads: int, connections: int, duration: int, cookie: str | None
) -> dict[str, Any]:
    command = wrk_command(
        url, threads=threads, connections=connections, duration=duration, cookie=cookie
    )
    result = finish_wrk(start_wrk(command), duration)
    result["command"] = _public_command(command)
    return result


def _public_command(command: list[str]) -> str:
    """The wrk command for the report, with the session key left out."""
    shown = [re.sub(r"(Cookie: [^=]+=).*", r"\1…", part) for part in command]
    return " ".join(Path(part).name if part.endswith(".lua") else part for part in shown)


def merged_percentile(results: list[dict[str, Any]], percentile: float) -> float:
    """A percentile of the union of several runs' latencies, in ms. Each run's half-percentile
    grid stands for its requests in equal shares; pooling the points weighted by those shares
    approximates the combined distribution (to within half a percentile of either run)."""
    points: list[tuple[float, float]] = []
    for result in results:
        grid = result["_grid_us"]
        weight = result["requests"] / len(grid)
        points += [(latency, weight) for latency in grid]
    points.sort()
    total = sum(weight for _, weight in points)
    if total == 0:
        return 0.0
    running = 0.0
    for latency, weight in points:
        running += weight
        if running >= total * percentile / 100:
            return round(latency / 1000, 2)
    return round(points[-1][0] / 1000, 2) if points else 0.0


def _public(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if not key.startswith("_")}


# --- the benchmarks ------------------------------------------------------------------------------


def warm_up(server: Server, path: str, cookie: str | None) -> None:
    """One complete request per worker, at once, before measuring: imports, template
    compilation and each worker's first database connection are then not in the numbers.

    Not a short wrk run: wrk stops after its duration but the requests it sent stay queued in
    the server, and with a slow page their backlog would still be served during the
    measurement that follows."""
    with ThreadPoolExecutor(max_workers=server.workers) as pool:
        statuses = list(
            pool.map(lambda _: http_get(server.port, path, cookie)[0], range(server.workers))
        )
    if any(status != 200 for status in statuses):
        raise RuntimeError(f"warm-up of {path} answered {statuses}")


def item_path(database_url: str) -> str:
    """The page of the newest item being rectified: a page with history, evidence and a plan."""
    with psycopg.connect(database_url, autocommit=True) as db:
        row = db.execute(
            "SELECT id FROM rectification_rectificationitem WHERE status = 'in_progress' "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return f"/items/{row[0]}/" if row else LEDGER_PATH


def database_state(database_url: str) -> dict[str, Any]:
    """What the numbers depend on besides the code (read-only): whether the planner has
    statistics (a freshly seeded database on a server without autovacuum has none, and the
    plans are then guesses), and whether JIT compilation is on."""
    with psycopg.connect(database_url, autocommit=True) as db:
        never_analyzed = [
            row[0]
            for row in db.execute(
                "SELECT t.relname FROM pg_stat_user_tables t WHERE t.n_live_tup > 0 "
                "AND NOT EXISTS (SELECT 1 FROM pg_stats s "
                "WHERE s.schemaname = t.schemaname AND s.tablename = t.relname) "
                "ORDER BY t.relname"
            )
        ]
        settings = {
            name: str(db.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("autovacuum", "jit", "max_connections")
        }
    return {"tables_without_planner_statistics": never_analyzed, "postgres": settings}


def run(
    database_url: str,
    *,
    duration: int = 60,
    connections: int = 50,
    threads: int = 2,
    workers: int | None = None,
) -> dict[str, Any]:
    """One gunicorn; wrk on /healthz, then on the ledger list, an item page and the dashboard;
    the ledger's ratio to /healthz.

    /healthz goes first: after a wrk run on a page that takes seconds, the requests still
    queued in the server would be served during the next measurement."""
    workers = workers or default_workers()
    load_before = [round(x, 2) for x in os.getloadavg()]
    state = database_state(database_url)
    with tempfile.TemporaryDirectory(prefix="liwan-load-") as tmp:
        env = production_env(database_url, Path(tmp), secrets.token_urlsafe(50))
        check_migrated(env)
        session = create_session(env)
        try:
            with running_servers(env, 1, workers, Path(tmp)) as (server,):
                items_shown = verify_session(server, session)
                results = {}
                for name, path, cookie in (
                    ("healthz", HEALTHZ_PATH, None),
                    ("ledger", LEDGER_PATH, session.header),
                    ("item", item_path(database_url), session.header),
                    ("dashboard", DASHBOARD_PATH, session.header),
                ):
                    warm_up(server, path, cookie)
                    results[name] = _public(
                        run_wrk(
                            server.base_url + path,
                            threads=threads,
                            connections=connections,
                            duration=duration,
                            cookie=cookie,
                        )
                    )
                server_problems = server.log_problems()
        finally:
            delete_session(env, session)
    ledger, healthz = results["ledger"], results["healthz"]
    return {
        "benchmark": "load",
        "setup": _setup(
            workers, threads, connections, duration, instances=1, load_before=load_before
        ),
        "database": state,
        "ledger_items_shown": items_shown,
        "ledger": ledger,
        "healthz": healthz,
        "item": results["item"],
        "dashboard": results["dashboard"],
        "ratio_ledger_to_healthz_rps": round(
            ledger["requests_per_sec"] / healthz["requests_per_sec"], 5
        )
        if healthz["requests_per_sec"]
        else None,
        "server_log_problems": server_problems[:20],
        "server_log_problem_count": len(server_problems),
    }


def run_two_instances(
    database_url: str,
    *,
    duration: int = 60,
    connections: int = 50,
    workers: int | None = None,
) -> dict[str, Any]:
    """Two gunicorns on one database, each loaded by its own wrk (half the connections each),
    at the same time, on the ledger list."""
    workers = workers or default_workers()
    load_before = [round(x, 2) for x in os.getloadavg()]
    per_instance = max(connections // 2, 1)
    with tempfile.TemporaryDirectory(prefix="liwan-load2-") as tmp:
        env = production_env(database_url, Path(tmp), secrets.token_urlsafe(50))
        check_migrated(env)
        session = create_session(env)
        try:
            with running_servers(env, 2, workers, Path(tmp)) as servers:
                for server in servers:
                    verify_session(server, session)
                    warm_up(server, LEDGER_PATH, session.header)
                commands = [
                    wrk_command(
                        server.base_url + LEDGER_PATH,
                        threads=1,
                        connections=per_instance,
                        duration=duration,
                        cookie=session.header,
                    )
                    for server in servers
                ]
                # Both wrk processes start before either is waited for: the loads overlap.
                processes = [start_wrk(command) for command in commands]
                results = [finish_wrk(process, duration) for process in processes]
                problems = [line for server in servers for line in server.log_problems()]
                ports = [server.port for server in servers]
        finally:
            delete_session(env, session)
    combined_errors: dict[str, int] = {}
    for result in results:
        for key, value in result["errors"].items():
            combined_errors[key] = combined_errors.get(key, 0) + value
    return {
        "benchmark": "load_two_instances",
        "setup": _setup(workers, 1, per_instance, duration, instances=2, load_before=load_before),
        "instances": [
            {"port": port, "command": _public_command(command), **_public(result)}
            for port, command, result in zip(ports, commands, results, strict=True)
        ],
        "combined": {
            "requests": sum(r["requests"] for r in results),
            "requests_per_sec": round(sum(r["requests_per_sec"] for r in results), 2),
            "ok_requests_per_sec": round(sum(r["ok_requests_per_sec"] for r in results), 2),
            "latency_ms": {
                "p50": merged_percentile(results, 50),
                "p95": merged_percentile(results, 95),
                "p99": merged_percentile(results, 99),
                "max": max(r["latency_ms"]["max"] for r in results),
            },
            "errors": combined_errors,
        },
        "server_log_problems": problems[:20],
        "server_log_problem_count": len(problems),
    }


def _setup(
    workers: int,
    threads: int,
    connections: int,
    duration: int,
    *,
    instances: int,
    load_before: list[float],
) -> dict[str, Any]:
    return {
        "instances": instances,
        "gunicorn_workers_per_instance": workers,
        "gunicorn_worker_class": "sync",
        "cpu_cores": len(os.sched_getaffinity(0)),
        # wrk, gunicorn and PostgreSQL share these cores: the 1/5/15-minute load average
        # before the run shows whether something else was running and skewing the numbers.
        "load_average_before": load_before,
        "wrk_threads_per_process": threads,
        "wrk_connections_per_process": connections,
        "duration_s": duration,
        "warmup": "one request per worker before each measurement",
        "wrk_timeout_s": WRK_TIMEOUT_SECONDS,
        "user": BENCH_USERNAME,
        "settings": "DJANGO_DEBUG=false, DATABASE_CONN_MAX_AGE=60, plain http on 127.0.0.1",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--duration", type=int, default=60, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="default: 2 × cores + 1")
    parser.add_argument(
        "--only",
        choices=["single", "two-instances"],
        default=None,
        help="run one of the two benchmarks (default: both)",
    )
    args = parser.parse_args(argv)
    options = {"duration": args.duration, "connections": args.connections}
    report: dict[str, Any] = {}
    if args.only in (None, "single"):
        report["single"] = run(args.database_url, workers=args.workers, **options)
    if args.only in (None, "two-instances"):
        report["two_instances"] = run_two_instances(
            args.database_url, workers=args.workers, **options
        )
    # One line: benchmarks/run.py takes the last line of output that starts with "{".
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
