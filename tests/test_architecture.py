"""The layout rules of docs/architecture.md, checked on the source: which app may import which,
where audit events and ledger items are written, and that the reminder rules stay pure."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "liwan",
    "accounts",
    "evaluations",
    "calendars",
    "rectification",
    "reminders",
    "dashboard",
    "results",
)
# Lower first: an app may import the apps before it. ``devdata`` (demo and benchmark data) sits
# above everything and is imported by nothing.
LAYERS = {app: level for level, app in enumerate(APPS)} | {"devdata": len(APPS)}
# The upward imports that stay, each for its reason (docs/architecture.md, "Dependencies").
ALLOWED_UPWARD = {
    # Evaluation text is what ledger items answer: the back-office of evaluation data and its
    # import page hand a change or a table to the ledger's services.
    ("evaluations/admin.py", "rectification"),
    ("evaluations/admin_import.py", "rectification"),
}


def _sources() -> list[Path]:
    files = []
    for app in (*APPS, "devdata"):
        files += [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    return files


def _imports(path: Path) -> list[str]:
    """Modules imported at run time (``if TYPE_CHECKING:`` blocks are type hints only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    names = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # ``from package import submodule`` imports the submodule, not the package's body.
            package = ROOT.joinpath(*node.module.split("."))
            for alias in node.names:
                submodule = package / f"{alias.name}.py"
                names.append(f"{node.module}.{alias.name}" if submodule.exists() else node.module)
    return names


def _app_of(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in LAYERS else None


def test_apps_import_only_apps_below_them_except_the_named_seams():
    upward = []
    for path in _sources():
        own = path.relative_to(ROOT).parts[0]
        for module in _imports(path):
            other = _app_of(module)
            if other and other != own and LAYERS[other] > LAYERS[own]:
                upward.append((path.relative_to(ROOT).as_posix(), other))
    assert set(upward) <= ALLOWED_UPWARD, sorted(set(upward) - ALLOWED_UPWARD)


def test_no_module_imports_one_that_imports_it_back():
    graph: dict[str, set[str]] = defaultdict(set)
    for path in _sources():
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        graph[name] |= {m for m in _imports(path) if _app_of(m)}
    cycles = [(a, b) for a, targets in graph.items() for b in targets if a in graph.get(b, ())]
    assert cycles == []


@pytest.mark.parametrize(
    ("model", "writers"),
    [
        ("Event", {"Event.objects.create", "Event.objects.bulk_create", "Event"}),
        (
            "RectificationItem",
            {
                "RectificationItem.objects.create",
                "RectificationItem.objects.bulk_create",
                "RectificationItem",
            },
        ),
    ],
)
def test_audit_events_and_ledger_items_are_made_only_by_the_ledger_services_core(model, writers):
    makers = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in writers:
                makers.append(path.relative_to(ROOT).as_posix())
    assert set(makers) == {"rectification/services/core.py"}, model


def test_the_reminder_rules_are_pure():
    imported = _imports(ROOT / "reminders" / "rules.py")
    assert not [m for m in imported if m.startswith(("django.db", "rectification.models"))]
    assert (
        "selectors"
        not in (ROOT / "reminders" / "rules.py").read_text(encoding="utf-8").split('"""')[-1]
    )


def test_the_status_tallies_are_read_and_written_only_by_their_module():
    users = {
        path.relative_to(ROOT).as_posix()
        for path in _sources()
        if "StatusTally" in path.read_text(encoding="utf-8")
    }
    assert users == {"rectification/models.py", "rectification/tallies.py"}
