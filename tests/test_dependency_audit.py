"""`make audit`'s dependency step decides right on what pip-audit reports: a known vulnerability
fails, a clean report passes, and an audit that could not reach any vulnerability database says
so — a failure only where one is expected (LIWAN_AUDIT_STRICT=true).

pip-audit itself needs the internet; here its answers are stood in for, the decision is real.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def script(monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "audit_dependencies", ROOT / "scripts" / "audit_dependencies.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.delenv("LIWAN_AUDIT_STRICT", raising=False)
    return module


def _answers(monkeypatch, script, answers: dict) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(script, "audit", lambda service: answers[service])


CLEAN = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}]}
VULNERABLE = {
    "dependencies": [
        {
            "name": "django",
            "version": "5.2.19",
            "vulns": [{"id": "PYSEC-2099-1", "fix_versions": ["5.2.20"], "aliases": []}],
        }
    ]
}
NOT_FOUND = {
    "dependencies": [
        {"name": "django", "version": "5.2.19", "skip_reason": "Dependency not found on PyPI"}
    ]
}


def test_a_known_vulnerability_fails(monkeypatch, script, capsys):
    _answers(monkeypatch, script, {"osv": (VULNERABLE, "")})
    assert script.main() == 1
    assert "VULNERABLE django==5.2.19: PYSEC-2099-1 (fixed in 5.2.20)" in capsys.readouterr().out


def test_a_clean_report_passes(monkeypatch, script, capsys):
    _answers(monkeypatch, script, {"osv": (CLEAN, "")})
    assert script.main() == 0
    assert "no known vulnerabilities in 1 pinned packages" in capsys.readouterr().out


def test_it_falls_back_to_pypi_when_osv_is_unreachable(monkeypatch, script):
    _answers(monkeypatch, script, {"osv": (None, "ConnectionError"), "pypi": (VULNERABLE, "")})
    assert script.main() == 1


def test_without_any_database_it_says_so_and_passes_unless_strict(monkeypatch, script, capsys):
    _answers(monkeypatch, script, {"osv": (None, "ConnectionError"), "pypi": (NOT_FOUND, "")})
    assert script.main() == 0
    out = capsys.readouterr().out
    assert "DEPENDENCY AUDIT NOT PERFORMED" in out
    assert "osv: ConnectionError" in out
    monkeypatch.setenv("LIWAN_AUDIT_STRICT", "true")
    assert script.main() == 1
