"""One full export through the download view, in a process of its own, reporting its time and
the process's peak memory (``python -m benchmarks.export_probe csv|xlsx USERNAME``).

A separate process, so the peak resident memory is the export's and nothing else's.
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

    client = Client()
    client.force_login(User.objects.get(username=username))
    started = time.perf_counter()
    response = client.get(reverse("rectification:export"), {"format": fmt})
    size = 0
    first_byte = None
    for chunk in response.streaming_content:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "format": fmt,
                "status": response.status_code,
                "streaming": response.streaming,
                "bytes": size,
                "seconds": round(elapsed, 1),
                "first_byte_seconds": round(first_byte or elapsed, 2),
                "peak_rss_mb": round(peak_kb / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
