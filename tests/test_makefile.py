"""`make run`: the reminder links follow the address it serves (HOST)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETTING = (
    "import django; django.setup(); from django.conf import settings; print(settings.SITE_BASE_URL)"
)


def _site_base_url(host: str, **env: str) -> str:
    """What the processes `make run HOST=…` starts see as SITE_BASE_URL: the recipe's export
    line (as make would run it), then the settings read in that shell."""
    plan = subprocess.run(
        ["make", "-n", "run", f"HOST={host}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    [export] = [line for line in plan.splitlines() if "export LIWAN_SITE_BASE_URL" in line]
    export = export.rstrip(" \\").rstrip(";")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIWAN_", "DJANGO_"))}
    clean |= {"DJANGO_SETTINGS_MODULE": "liwan.settings", **env}
    result = subprocess.run(
        ["sh", "-c", f'{export}; exec "$0" -c "$1"', sys.executable, SETTING],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_the_reminder_links_follow_the_host_make_run_serves():
    assert _site_base_url("127.0.0.1:8012") == "http://127.0.0.1:8012"
    assert _site_base_url("127.0.0.1:8000") == "http://127.0.0.1:8000"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_a_base_url_set_by_the_operator_wins():
    url = _site_base_url("127.0.0.1:8012", LIWAN_SITE_BASE_URL="https://ledger.example.gov.cn")
    assert url == "https://ledger.example.gov.cn"
