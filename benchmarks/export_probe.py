"""One whole-city export, in a process of its own, reporting how soon the page answers, how
long the worker takes to write the file and the process's peak memory
(``python -m benchmarks.export_probe csv|xlsx USERNAME``).

An export of the whole city is more than ``LIWAN_EXPORT_INLINE_ROWS`` rows, so the download
view answers with the job's progress page and the worker writes the file
(``rectification.export_jobs``). Here the job is written in this process, as the worker would,
so the peak resident memory is the writer's and nothing else's; the job and its file are
deleted afterwards.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import django


def main() -> None:
    fmt, username = sys.argv[1], sys.argv[2]
    django.setup()
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from liwan import clock, heap
    from rectification import export_jobs, tasks
    from rectification.models import ExportJob

    heap.settle()  # as web and worker processes do once loaded (liwan/heap.py)
    # No worker runs during the benchmark: the job is written below, not handed to the broker.
    tasks.queue_export = lambda job_id: None
    client = Client()
    client.force_login(User.objects.get(username=username))
    asked_at = clock.now()
    started = time.perf_counter()
    response = client.get(reverse("rectification:export"), {"format": fmt}, secure=True)
    answered = time.perf_counter() - started
    job = ExportJob.objects.get(requested_by__username=username, created_at__gte=asked_at)
    started = time.perf_counter()
    done = export_jobs.run(job.pk)
    written = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    size = done.file.size if done is not None and done.file else 0
    rows = done.done if done is not None else 0
    ExportJob.objects.get(pk=job.pk).delete()  # its file goes with it
    print(
        json.dumps(
            {
                "format": fmt,
                "status": response.status_code,
                "rows": rows,
                "bytes": size,
                "seconds": round(written, 1),
                "first_byte_seconds": round(answered, 2),
                "peak_rss_mb": round(peak_kb / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
