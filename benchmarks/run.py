"""``make bench``: the scale benchmarks on PostgreSQL, written to BENCHMARKS.md and a JSON file.

    python -m benchmarks.run [--items 200000] [--units 500] [--years 5] [--quick]

1. The benchmark database (``liwan_bench_<items>`` on the local PostgreSQL, or
   ``--database-url``) is created, migrated and filled by ``seed_scale`` when it is empty; an
   existing one of the right size is reused (``--reseed`` starts again).
2. In this process, with production settings (DEBUG off): server-side latency and queries per
   request of the ledger, item page and dashboard as evaluation staff and as a unit
   (benchmarks/pages.py); the reminder sweep against a local SMTP server
   (benchmarks/reminders_bench.py); importing a 5,000-project workbook
   (benchmarks/import_bench.py). Both roll back what they write.
3. In processes of their own: the full export as CSV and XLSX with its peak memory
   (benchmarks/export_probe.py); the gunicorn + wrk load run, one and two instances
   (benchmarks/load.py); two workers and two beats racing on a copy of the database
   (benchmarks/race.py).
4. The figures go to ``benchmarks/results/<items>.json`` and into the generated part of
   BENCHMARKS.md (between its ``results`` markers); the prose around it is written by hand.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import load

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULTS = ROOT / "benchmarks" / "results"
MARK_BEGIN = "<!-- results:{items}:begin -->"
MARK_END = "<!-- results:{items}:end -->"
PARTS = ("exports", "pages", "reminders", "import", "load", "race")
STAFF = "scale.pingjia"
UNIT = "scale0001.staff"

TARGETS = {
    "page_p95_ms": 150,
    "planning_seconds": 10,
    "export_peak_mb": 250,
    "load_errors": 0,
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def production_env(database_url: str, var_dir: Path) -> dict[str, str]:
    """The load run's production environment, plus what this process's test client needs."""
    return load.production_env(database_url, var_dir, secrets.token_urlsafe(50)) | {
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
    }


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def psql(database_url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", database_url, "-Atc", sql], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(done.stderr.strip())
    return done.stdout.strip()


def prepare_database(args: argparse.Namespace, var_dir: Path) -> dict[str, Any]:
    """Create, migrate and seed the benchmark database unless it already holds the data."""
    url = args.database_url
    server_url, name = url.rsplit("/", 1)
    admin_url = f"{server_url}/postgres"
    exists = psql(admin_url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"
    if exists and args.reseed:
        psql(admin_url, f'DROP DATABASE "{name}" WITH (FORCE)')
        exists = False
    if not exists:
        psql(admin_url, f'CREATE DATABASE "{name}"')
    env = production_env(url, var_dir)
    log(f"migrating {name}")
    manage(env, "migrate", "--noinput")
    count = int(psql(url, "SELECT count(*) FROM rectification_rectificationitem"))
    info: dict[str, Any] = {"database": name}
    if count == 0:
        log(f"seeding {args.items} items over {args.units} units and {args.years} years")
        seed_env = {**env, "DJANGO_DEBUG": "true"}
        started = time.perf_counter()
        output = manage(
            seed_env,
            "seed_scale",
            f"--units={args.units}",
            f"--items={args.items}",
            f"--years={args.years}",
        )
        info["seed_seconds"] = round(time.perf_counter() - started, 1)
        info["seed_output"] = output.strip().splitlines()[0]
    elif count != args.items:
        raise SystemExit(
            f"{name} holds {count} items, not {args.items}: use --reseed or another database"
        )
    else:
        log(f"reusing {name} ({count} items)")
        psql(url, "VACUUM ANALYZE")
    info["rows"] = {
        table: int(psql(url, f"SELECT count(*) FROM {table}"))
        for table in (
            "evaluations_unit",
            "evaluations_project",
            "rectification_rectificationitem",
            "rectification_progressupdate",
            "rectification_evidence",
            "rectification_event",
        )
    }
    info["size_mb"] = round(int(psql(url, f"SELECT pg_database_size('{name}')")) / 1_048_576)
    return info


def run_module(module: str, env: dict[str, str], *args: str, timeout: int = 1800) -> Any:
    """Run ``python -m benchmarks.<module>`` and return the JSON it prints last."""
    done = subprocess.run(
        [PYTHON, "-m", f"benchmarks.{module}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in reversed(done.stdout.strip().splitlines()):
        if line.startswith(("{", "[")):
            return json.loads(line)
    raise RuntimeError(f"benchmarks.{module} printed no result:\n{done.stdout}\n{done.stderr}")


def in_process(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    from accounts.models import User
    from benchmarks import fixed_cost, import_bench, pages
    from liwan import heap

    # Pages are served and reminders planned here as a web worker and a Celery worker do:
    # their processes settle the heap once loaded (liwan.wsgi, liwan.celery; liwan/heap.py).
    heap.settle()
    results: dict[str, Any] = {}
    if "pages" in args.parts:
        log("pages: the fixed cost of a page, middleware by middleware")
        results["fixed_cost"] = fixed_cost.run(
            user=User.objects.get(username=STAFF), repeat=100 if args.quick else 400
        )
        log("pages: the worker's computations of a large round")
        results["background"] = pages.background(staff_username=STAFF)
        log("pages: latency and queries")
        results["pages"] = pages.run(
            repeat=10 if args.quick else 40, staff_username=STAFF, unit_username=UNIT
        )
        minimal = results["fixed_cost"]["signed_in"]["p50_ms"]
        for row in results["pages"]:
            # Each page against the minimal signed-in page of the same run: machine-independent.
            row["ratio_to_minimal"] = round(row["p50_ms"] / minimal, 1)
    if "reminders" in args.parts:
        results["reminders"] = _reminders()
    if "import" in args.parts:
        log("import: a 5,000-project workbook")
        results["import"] = import_bench.run(projects=500 if args.quick else 5000)
    connections.close_all()  # the race copies the database: no session of ours may hold it
    return results


def _reminders() -> dict[str, Any]:
    from benchmarks import reminders_bench

    log("reminders: planning and sending")
    port = load.free_port()
    sink = subprocess.Popen(
        [PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        return reminders_bench.run(smtp_host="127.0.0.1", smtp_port=port)
    finally:
        sink.terminate()
        sink.wait(10)


def machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory_kb = int(line.split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1_048_576),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 10 s load runs")
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn/wrk/celery runs")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated subset of {','.join(PARTS)} (default: all)",
    )
    args = parser.parse_args(argv)
    args.parts = set(args.parts.split(","))
    if args.skip_load:
        args.parts -= {"load", "race"}
    args.database_url = (
        args.database_url or f"postgres://postgres@127.0.0.1:5432/liwan_bench_{args.items}"
    )
    var_dir = Path(os.environ.get("LIWAN_BENCH_VAR", "/tmp/liwan-bench"))  # nosec B108
    var_dir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    report: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "postgresql": psql(
            args.database_url.rsplit("/", 1)[0] + "/postgres", "SHOW server_version"
        ),
        "items": args.items,
        "quick": args.quick,
    }
    report["data"] = prepare_database(args, var_dir)
    env = production_env(args.database_url, var_dir)

    if "exports" in args.parts:
        log("exports: full CSV and XLSX, each in a process of its own")
        report["exports"] = [run_module("export_probe", env, fmt, STAFF) for fmt in ("csv", "xlsx")]
    report.update(in_process(args, env))
    if "load" in args.parts:
        duration = "10" if args.quick else "60"
        log("load: gunicorn + wrk, one instance, then two")
        report["load"] = run_module(
            "load", env, "--database-url", args.database_url, "--duration", duration
        )
    if "race" in args.parts:
        log("race: two workers and two beats on a copy of the database")
        report["race"] = run_module("race", env, "--database-url", args.database_url)
    report["seconds"] = round(time.perf_counter() - started)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{args.items}.json"
    if set(PARTS) - args.parts and out.exists():
        # A partial run keeps the other parts' figures of the last run at this size.
        previous = json.loads(out.read_text(encoding="utf-8"))
        kept = [part for part in PARTS if part in previous and part not in args.parts]
        report = {**previous, **report, "kept_from_previous_run": kept}
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    from benchmarks.report import write_markdown

    write_markdown(ROOT / "BENCHMARKS.md", report)
    log(f"done in {report['seconds']} s: {out.relative_to(ROOT)} and BENCHMARKS.md")


if __name__ == "__main__":
    main()
