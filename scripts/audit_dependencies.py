"""Known vulnerabilities in the pinned dependencies: pip-audit over requirements.txt and
requirements-dev.txt, every package at its exact pinned version.

pip-audit needs a vulnerability database from the internet: OSV (api.osv.dev) or PyPI's JSON
API. Where neither answers — a government intranet, or a machine that reaches only a package
mirror — the audit cannot be done there, and this script says so plainly instead of failing the
build or, worse, reporting "no known vulnerabilities". With LIWAN_AUDIT_STRICT=true (a connected
CI) an audit that could not be done fails.

    .venv/bin/python scripts/audit_dependencies.py        # `make audit` runs it

Exit status: 0 no known vulnerability (or audit impossible, not strict); 1 a vulnerability,
or audit impossible in strict mode.
"""

from __future__ import annotations

import json
import os

# pip-audit runs as a child process with an argument list, never through a shell.
import subprocess  # nosec B404
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Both files: pip-audit does not follow the "-r requirements.txt" line inside the dev file.
REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
SERVICES = ("osv", "pypi")  # OSV first: it also knows advisories PyPI does not carry


def audit(service: str) -> tuple[dict | None, str]:
    """pip-audit's JSON report from ``service``, or None and why there is none."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [
            sys.executable, "-m", "pip_audit",
            *(arg for path in REQUIREMENTS for arg in ("--requirement", str(path))),
            "--no-deps", "--disable-pip",  # the file pins every package, transitive ones too
            "--vulnerability-service", service,
            "--format", "json", "--output", str(report),
            "--progress-spinner", "off", "--timeout", "20",
        ]  # fmt: skip
        try:
            result = subprocess.run(  # noqa: S603 # nosec B603
                command, capture_output=True, text=True, timeout=600, check=False
            )
        except subprocess.TimeoutExpired:
            return None, "no answer within 10 minutes"
        if not report.exists():
            lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
            return None, lines[-1] if lines else f"pip-audit exited with {result.returncode}"
        return json.loads(report.read_text(encoding="utf-8")), ""


def main() -> int:
    strict = os.environ.get("LIWAN_AUDIT_STRICT", "").lower() in {"1", "true", "yes"}
    reasons = []
    for service in SERVICES:
        report, why = audit(service)
        if report is None:
            reasons.append(f"{service}: {why}")
            continue
        dependencies = report.get("dependencies", [])
        audited = [d for d in dependencies if "skip_reason" not in d]
        skipped = [d for d in dependencies if "skip_reason" in d]
        if not audited:
            reason = skipped[0]["skip_reason"] if skipped else "no packages in the report"
            reasons.append(
                f"{service}: no vulnerability data for any of the {len(dependencies)} pinned "
                f"packages (a package mirror without PyPI's per-version JSON API?) — {reason}"
            )
            continue
        vulnerable = [d for d in audited if d.get("vulns")]
        for dependency in vulnerable:
            for vuln in dependency["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                print(
                    f"VULNERABLE {dependency['name']}=={dependency['version']}: {vuln['id']} "
                    f"(fixed in {fixes})"
                )
        for dependency in skipped:
            print(f"not audited: {dependency['name']}: {dependency['skip_reason']}")
        if vulnerable:
            print(f"pip-audit ({service}): {len(vulnerable)} pinned package(s) are vulnerable")
            return 1
        print(
            f"pip-audit ({service}): no known vulnerabilities in {len(audited)} pinned packages"
            + (f"; {len(skipped)} could not be audited (listed above)" if skipped else "")
        )
        return 0
    print("DEPENDENCY AUDIT NOT PERFORMED: no vulnerability database could be reached from here.")
    for reason in reasons:
        print(f"  {reason}")
    print(
        "  Run `make audit` on a machine with internet access (or set LIWAN_AUDIT_STRICT=true "
        "where one is expected, to make this a failure)."
    )
    return 1 if strict else 0


if __name__ == "__main__":
    sys.exit(main())
