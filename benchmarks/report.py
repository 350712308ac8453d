"""The generated part of BENCHMARKS.md: tables of one run's figures, checked against targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PAGE_P95_MS = 150
PAGE_P95_TARGET_MS = 50
PLANNING_SECONDS = 5
EXPORT_PEAK_MB = 250


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def _pages(report: dict[str, Any]) -> list[str]:
    lines = [
        "| page | as | p50 ms | p95 ms | × minimal | queries | ≤ 50 ms | ≤ 150 ms |",
        "|---|---|---:|---:|---:|---:|:-:|:-:|",
    ]
    for row in report["pages"]:
        ratio = row.get("ratio_to_minimal")
        within = [_mark(row["p95_ms"] <= limit) for limit in (PAGE_P95_TARGET_MS, PAGE_P95_MS)]
        lines.append(
            f"| {row['page']} | {row['role']} | {row['p50_ms']} | {row['p95_ms']} | "
            f"{ratio if ratio is not None else '—'} | {row['queries']} | {' | '.join(within)} |"
        )
    return lines


def _background(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| computation | year | items | rows stored | time s |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {row['kind']} | {row['year']} | {row['items']:,} | {row['rows']:,} | {row['seconds']} |"
        for row in rows
    ]
    return [
        *lines,
        "",
        "The pages of these rounds (above) read the stored result a page at a time; the worker "
        "computes it again when it is older than `LIWAN_SNAPSHOT_FRESH_SECONDS` or out of date.",
    ]


def _fixed_cost(r: dict[str, Any]) -> list[str]:
    lines = [
        "| request | p50 ms | p95 ms | queries |",
        "|---|---:|---:|---:|",
        f"| a bare view, no middleware (the floor) | {r['floor']['p50_ms']} | "
        f"{r['floor']['p95_ms']} | {r['floor']['queries']} |",
        f"| the same view through the whole stack, anonymous | {r['anonymous']['p50_ms']} | "
        f"{r['anonymous']['p95_ms']} | {r['anonymous']['queries']} |",
        f"| the minimal signed-in page | {r['signed_in']['p50_ms']} | "
        f"{r['signed_in']['p95_ms']} | {r['signed_in']['queries']} |",
        "",
        f"The minimal signed-in page costs {r['signed_in_ratio']}× the floor in-process "
        "(the floor has no HTTP parsing; the load run compares them over HTTP). Middleware by "
        "middleware, signed in (milliseconds added to the median as the stack is built up):",
        "",
        "| middleware | + ms | queries so far |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| `{layer['middleware']}` | {layer['added_ms']} | {layer['queries']} |"
        for layer in r["layers"]
    ]
    return lines


def _reminders(r: dict[str, Any]) -> list[str]:
    return [
        f"- open items: {r['open_items']:,}; reminders planned today: {r['planned']:,}",
        f"- planning: **{r['planning_seconds']} s** (target ≤ {PLANNING_SECONDS} s "
        f"{_mark(r['planning_seconds'] <= PLANNING_SECONDS)}); planning again (idempotent, "
        f"nothing new): {r['replanning_seconds']} s",
        f"- sending: {r['emails_sent']:,} digests ({r['reminders_sent']:,} reminders) in "
        f"{r['sending_seconds']} s = **{r['emails_per_second']} e-mails/s** to a local SMTP "
        f"server; failed: {r['failed']}; left pending: {r['left_pending']}",
    ]


def _exports(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| format | rows | size MB | the page answers, s | the worker writes it, s "
        "| peak memory MB | ≤ 250 MB |",
        "|---|---:|---:|---:|---:|---:|:-:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['format']} | {row.get('rows', 0):,} | {row['bytes'] / 1_048_576:.1f} | "
            f"{row['first_byte_seconds']} | {row['seconds']} | {row['peak_rss_mb']} | "
            f"{_mark(row['peak_rss_mb'] <= EXPORT_PEAK_MB)} |"
        )
    return [
        *lines,
        "",
        "The whole city is more rows than `LIWAN_EXPORT_INLINE_ROWS`: the download answers with "
        "the job's progress page, and the worker writes the file (here in the probe's own "
        "process, so the memory is the writer's).",
    ]


def _import(r: dict[str, Any]) -> list[str]:
    return [
        f"- {r['projects']:,} projects, {r['items_created']:,} problems/recommendations, "
        f"{r['file_mb']} MB workbook: read {r['read_seconds']} s + import {r['import_seconds']} s "
        f"= **{r['total_seconds']} s** (all-or-nothing, one transaction)",
    ]


def _table(data: dict[str, Any]) -> list[str]:
    lines = ["| | |", "|---|---|"]
    for key, value in data.items():
        if isinstance(value, dict | list):
            continue
        lines.append(f"| {key} | {value} |")
    return lines


def _wrk_row(name: str, run: dict[str, Any]) -> str:
    latency = run["latency_ms"]
    return (
        f"| {name} | {run['requests_per_sec']} | {latency['p50']:.0f} | {latency['p95']:.0f} | "
        f"{latency['p99']:.0f} | {run['errors']['total']} |"
    )


def _load(load: dict[str, Any]) -> list[str]:
    single = load["single"]
    setup = single["setup"]
    two = load["two_instances"]
    lines = [
        f"gunicorn, {setup['gunicorn_workers_per_instance']} {setup['gunicorn_worker_class']} "
        f"workers per instance, {setup['settings']}; wrk {setup['wrk_connections_per_process']} "
        f"connections for {setup['duration_s']} s, signed in as `{setup['user']}` "
        f"(the ledger shows all {single['ledger_items_shown']:,} items).",
        "",
        "| run | requests/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
        _wrk_row("ledger list `/`", single["ledger"]),
        *([_wrk_row("item page", single["item"])] if "item" in single else []),
        *([_wrk_row("dashboard", single["dashboard"])] if "dashboard" in single else []),
        _wrk_row("minimal view `/healthz`", single["healthz"]),
    ]
    for n, instance in enumerate(two["instances"], start=1):
        lines.append(_wrk_row(f"two instances: instance {n}, ledger", instance))
    lines += [
        _wrk_row("two instances: combined, ledger", two["combined"]),
        "",
        f"Ledger : minimal view throughput = **{single['ratio_ledger_to_healthz_rps']}**. "
        f"Errors in the gunicorn logs: {single['server_log_problem_count']} and "
        f"{two['server_log_problem_count']}.",
    ]
    return lines


def _race(race: dict[str, Any]) -> list[str]:
    reminders = race["reminders"]
    delivery = race["delivery"]
    workers = ", ".join(f"{k} {v}" for k, v in delivery["emails_by_worker"].items())
    return [
        f"- {race['setup']['workers']} workers and {race['setup']['beats']} beats, a sweep every "
        f"{race['setup']['sweep_interval_s']} s, on a copy of the database; quiet after "
        f"{race['elapsed_s']} s",
        f"- reminders planned {reminders['planned']:,}, sent {reminders['sent']:,}, failed "
        f"{reminders['failed']}, left sending {reminders['left_sending']}; items escalated in all "
        f"{reminders['items_escalated']:,}",
        f"- e-mails received {delivery['emails_received']:,} ({workers}), digests recorded "
        f"{delivery['digests_recorded_in_db']:,}, largest {delivery['largest_email_kb']:,} KB; "
        f"items counted in a digest without being listed (beyond its first 200): "
        f"{delivery.get('counted_not_listed', 0):,}",
        f"- **duplicates found: {race['duplicates_found']}**; sent but not received: "
        f"{delivery['sent_but_not_received']}; error lines in the logs: "
        f"{race['logs']['error_lines']} — {_mark(bool(race['ok']))}",
    ]


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    data = report["data"]
    rows = data["rows"]
    lines = [
        f"Run of {report['date']} on {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, "
        f"PostgreSQL {report['postgresql']}, Python {m['python']}"
        + (" — **quick run** (fewer repeats)" if report.get("quick") else "")
        + f"; whole run {report['seconds']} s"
        + (
            f" (figures of {', '.join(report['kept_from_previous_run'])} from the last run)"
            if report.get("kept_from_previous_run")
            else ""
        )
        + ".",
        "",
        f"Data: {rows['evaluations_unit']:,} units, {rows['evaluations_project']:,} projects, "
        f"{rows['rectification_rectificationitem']:,} items, "
        f"{rows['rectification_progressupdate']:,} progress reports, "
        f"{rows['rectification_evidence']:,} evidence records, "
        f"{rows['rectification_event']:,} audit records; database {data['size_mb']:,} MB"
        + (f"; seeded in {data['seed_seconds']} s" if "seed_seconds" in data else "")
        + ".",
        "",
    ]
    if "pages" in report:
        lines += ["#### Pages (server time, in-process, DEBUG off)", "", *_pages(report), ""]
    if "background" in report:
        lines += [
            "#### Computed by the worker (a large round's repeats, publication draft and report "
            "to leaders)",
            "",
            *_background(report["background"]),
            "",
        ]
    if "fixed_cost" in report:
        lines += ["#### The fixed cost of a page", "", *_fixed_cost(report["fixed_cost"]), ""]
    if "reminders" in report:
        lines += ["#### Reminder sweep", "", *_reminders(report["reminders"]), ""]
    if "exports" in report:
        lines += [
            "#### Whole-city export (a background job, separate process)",
            "",
            *_exports(report["exports"]),
            "",
        ]
    if "import" in report:
        lines += ["#### Import", "", *_import(report["import"]), ""]
    if "load" in report:
        lines += ["#### Load run (wrk on loopback)", "", *_load(report["load"]), ""]
    if "race" in report:
        lines += ["#### Two workers, two beats", "", *_race(report["race"]), ""]
    return "\n".join(lines)


def write_markdown(path: Path, report: dict[str, Any]) -> None:
    """Replace this size's generated section of ``path``, or append one."""
    begin = f"<!-- results:{report['items']}:begin -->"
    end = f"<!-- results:{report['items']}:end -->"
    section = f"{begin}\n{render(report)}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
