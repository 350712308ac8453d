"""Writing the evaluation data of a summary table into the database.

Matching is on natural keys, so importing the same file twice changes nothing and a corrected
file updates rows in place. This module writes what the evaluation found and nothing else: it
returns which recommendations are new and which texts changed, and the ledger
(``rectification.imports``) opens the items and records the events, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluations.importing.records import ImportIssue, ImportRejected, ParsedTable, ProjectRecord
from evaluations.models import (
    EvaluationResult,
    EvaluationRound,
    Finding,
    FindingCategory,
    Project,
    Recommendation,
    Unit,
    chinese_numeral,
)

RESULT_FIELDS = ("seq", "goal", "budget", "spent", "completion_rate", "score", "grade")
TEXT_FIELDS = ("title", "body")
# Added to a result's seq while numbers are being swapped, so the unique (round, seq) constraint
# never sees two rows with the same number mid-update.
_SEQ_SHIFT = 1_000_000


@dataclass
class ImportReport:
    year: int
    dry_run: bool
    units_created: int = 0
    projects_created: int = 0
    results_created: int = 0
    results_updated: int = 0
    results_unchanged: int = 0
    findings_created: int = 0
    findings_updated: int = 0
    recommendations_created: int = 0
    recommendations_updated: int = 0
    # Existing findings whose problem categories the file changed (YAML only).
    categories_updated: int = 0
    items_created: int = 0
    round_title_updated: bool = False
    # One line per created or updated project: (where, unit, project, "新建" / "更新", details);
    # unchanged projects get none (see results_unchanged).
    lines: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # projects of the round absent from the file
    # Likely repeats of an earlier round's problem at the same unit (屡审屡犯), found by the
    # ledger once the items exist: (unit, this round's problem, the earlier problem, its year).
    likely_repeats: list[tuple[str, str, str, int]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.round_title_updated,
                self.units_created,
                self.projects_created,
                self.results_created,
                self.results_updated,
                self.findings_created,
                self.findings_updated,
                self.recommendations_created,
                self.recommendations_updated,
                self.categories_updated,
                self.items_created,
            )
        )

    def summary(self) -> str:
        return (
            f"{self.year}年度：新建单位 {self.units_created} 个，"
            f"新建项目 {self.projects_created} 个；"
            f"评价结果新建 {self.results_created}、更新 {self.results_updated}、"
            f"无变化 {self.results_unchanged}；问题新建 {self.findings_created}、"
            f"更新 {self.findings_updated}；建议新建 {self.recommendations_created}、"
            f"更新 {self.recommendations_updated}；"
            + (f"问题类别更新 {self.categories_updated} 条；" if self.categories_updated else "")
            + f"新建整改事项 {self.items_created} 项。"
            + ("批次标题已更新。" if self.round_title_updated else "")
            + (
                f"其中 {len(self.likely_repeats)} 个问题可能是以往年度问题的重现（屡审屡犯），"
                "导入后请在「屡审屡犯」页确认。"
                if self.likely_repeats
                else ""
            )
        )


@dataclass(frozen=True)
class TextChange:
    """A recommendation whose text, or its finding's, a corrected file changed."""

    recommendation_id: int
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class WrittenTable:
    """What ``write_evaluation_table`` did, for the ledger to act on."""

    round: EvaluationRound
    report: ImportReport
    # New recommendations, each with the unit whose ledger item it becomes.
    new_recommendations: list[tuple[Recommendation, Unit]] = field(default_factory=list)
    changed_texts: list[TextChange] = field(default_factory=list)


def write_evaluation_table(*, table: ParsedTable, dry_run: bool = False) -> WrittenTable:
    """Write the evaluation data of ``table``; raise :class:`ImportRejected` if it cannot be.

    Call it inside a transaction: on a rejection part of the table may already be written, and
    the caller's rollback undoes it (``rectification.imports.import_evaluation_table``).
    """
    if table.issues:
        raise ImportRejected(table.issues)
    assert table.year is not None
    importer = _Importer(table, ImportReport(year=table.year, dry_run=dry_run))
    round_ = importer.run()
    return WrittenTable(
        round=round_,
        report=importer.report,
        new_recommendations=importer.new_recommendations,
        changed_texts=importer.changed_texts,
    )


class _Importer:
    def __init__(self, table: ParsedTable, report: ImportReport):
        self.table = table
        self.report = report
        self.issues: list[ImportIssue] = []
        self.new_recommendations: list[tuple[Recommendation, Unit]] = []
        self.changed_texts: list[TextChange] = []

    def run(self) -> EvaluationRound:
        round_ = self._round()
        units = self._units()
        projects = self._projects(units)
        results = self._results(round_, projects)
        findings = self._findings(results)
        self._recommendations(findings)
        self._categories(findings)
        if self.issues:
            raise ImportRejected(self.issues)
        # Each step adds the lines it knows about; the reader of the report follows the file.
        order = {record.where: index for index, record in enumerate(self.table.projects)}
        self.report.lines.sort(key=lambda line: order[line[0]])
        return round_

    # Each step loads what exists in one query, then bulk-creates and bulk-updates.

    def _round(self) -> EvaluationRound:
        title = self.table.title or f"{self.table.year}年度财政支出项目绩效重点评价汇总表"
        round_, created = EvaluationRound.objects.get_or_create(
            year=self.table.year, defaults={"title": title}
        )
        if not created and self.table.title and round_.title != self.table.title:
            round_.title = self.table.title
            round_.save(update_fields=["title"])
            self.report.round_title_updated = True
        return round_

    def _units(self) -> dict[str, Unit]:
        names = {p.unit for p in self.table.projects}
        units = {u.name: u for u in Unit.objects.filter(name__in=names)}
        new = [Unit(name=name) for name in sorted(names - units.keys())]
        for unit in Unit.objects.bulk_create(new):
            units[unit.name] = unit
        self.report.units_created = len(new)
        return units

    def _projects(self, units: dict[str, Unit]) -> dict[tuple[str, str], Project]:
        wanted = {(p.unit, p.project) for p in self.table.projects}
        existing = Project.objects.filter(
            unit__in=[units[u] for u, _ in wanted], name__in={n for _, n in wanted}
        ).select_related("unit")
        projects = {(p.unit.name, p.name): p for p in existing if (p.unit.name, p.name) in wanted}
        new = [Project(unit=units[u], name=n) for u, n in sorted(wanted - projects.keys())]
        for project in Project.objects.bulk_create(new):
            projects[(project.unit.name, project.name)] = project
        self.report.projects_created = len(new)
        return projects

    def _results(
        self, round_: EvaluationRound, projects: dict[tuple[str, str], Project]
    ) -> list[tuple[ProjectRecord, EvaluationResult, bool]]:
        existing = {
            r.project_id: r
            for r in EvaluationResult.objects.filter(round=round_).select_related("project__unit")
        }
        file_project_ids = {projects[(p.unit, p.project)].pk for p in self.table.projects}
        kept_seqs = {r.seq: r for pid, r in existing.items() if pid not in file_project_ids}
        self.report.kept = [
            f"{r.seq}. {r.project.unit.name} {r.project.name}" for r in kept_seqs.values()
        ]
        out: list[tuple[ProjectRecord, EvaluationResult, bool]] = []
        to_create, to_update, renumbered = [], [], []
        for record in self.table.projects:
            project = projects[(record.unit, record.project)]
            if record.seq in kept_seqs:
                other = kept_seqs[record.seq]
                self.issues.append(
                    ImportIssue(
                        record.where,
                        "序号",
                        f"序号 {record.seq} 已被本年度项目「{other.project.name}」"
                        f"（{other.project.unit.name}）使用，而该项目不在本文件中",
                        letter=record.letters.get("序号", ""),
                    )
                )
                continue
            values = {
                "seq": record.seq,
                "goal": record.goal,
                "budget": record.budget,
                "spent": record.spent,
                "completion_rate": record.completion_rate,
                "score": record.score,
                "grade": record.grade,
            }
            result = existing.get(project.pk)
            if result is None:
                result = EvaluationResult(round=round_, project=project, **values)
                to_create.append(result)
                out.append((record, result, True))
                self._line(record, "新建", "")
                continue
            changed = [f for f in RESULT_FIELDS if getattr(result, f) != values[f]]
            if "seq" in changed:
                renumbered.append(result)
            for name in changed:
                setattr(result, name, values[name])
            if changed:
                to_update.append(result)
                labels = "、".join(
                    str(EvaluationResult._meta.get_field(f).verbose_name) for f in changed
                )
                self._line(record, "更新", labels)
            out.append((record, result, False))
        if renumbered:
            for result in renumbered:
                result.seq += _SEQ_SHIFT
            EvaluationResult.objects.bulk_update(renumbered, ["seq"])
            for result in renumbered:
                result.seq -= _SEQ_SHIFT
        EvaluationResult.objects.bulk_update(to_update, list(RESULT_FIELDS), batch_size=500)
        EvaluationResult.objects.bulk_create(to_create, batch_size=500)
        self.report.results_created = len(to_create)
        self.report.results_updated = len(to_update)
        self.report.results_unchanged = len(out) - len(to_create) - len(to_update)
        return out

    def _findings(
        self, results: list[tuple[ProjectRecord, EvaluationResult, bool]]
    ) -> list[tuple[ProjectRecord, EvaluationResult, Finding, int]]:
        existing: dict[tuple[int, int], Finding] = {}
        old_ids = [r.pk for _, r, created in results if not created]
        for finding in Finding.objects.filter(result_id__in=old_ids):
            existing[(finding.result_id, finding.number)] = finding
        counts: dict[int, int] = {}
        for result_id, number in existing:
            counts[result_id] = max(counts.get(result_id, 0), number)
        out = []
        to_create, to_update = [], []
        for record, result, result_created in results:
            if counts.get(result.pk, 0) > len(record.findings):
                self.issues.append(
                    ImportIssue(
                        record.where,
                        "问题",
                        f"系统中该项目已有 {counts[result.pk]} 条问题，文件只有 "
                        f"{len(record.findings)} 条；导入不会删除已有问题及其整改记录，"
                        "请在后台处理后再导入",
                        letter=record.letters.get("问题", ""),
                    )
                )
                continue
            for item in record.findings:
                finding = existing.get((result.pk, item.number))
                if finding is None:
                    finding = Finding(
                        result=result, number=item.number, title=item.title, body=item.body
                    )
                    to_create.append(finding)
                    if not result_created:
                        # An added finding brings a new ledger item; the report must say where.
                        self._detail(record, f"新增问题（{chinese_numeral(item.number)}）")
                elif (finding.title, finding.body) != (item.title, item.body):
                    finding._before = {"title": finding.title, "body": finding.body}  # type: ignore[attr-defined]
                    finding.title, finding.body = item.title, item.body
                    to_update.append(finding)
                    self._detail(record, f"问题（{chinese_numeral(item.number)}）")
                out.append((record, result, finding, item.number))
        Finding.objects.bulk_update(to_update, list(TEXT_FIELDS), batch_size=500)
        Finding.objects.bulk_create(to_create, batch_size=500)
        self._created_finding_ids = {finding.pk for finding in to_create}
        self.report.findings_created = len(to_create)
        self.report.findings_updated = len(to_update)
        self._changed_findings = to_update
        return out

    def _recommendations(
        self, findings: list[tuple[ProjectRecord, EvaluationResult, Finding, int]]
    ) -> None:
        existing = {
            r.finding_id: r
            for r in Recommendation.objects.filter(finding_id__in=[f.pk for _, _, f, _ in findings])
        }
        to_create: list[tuple[Recommendation, Unit]] = []
        to_update = []
        for record, result, finding, number in findings:
            item = record.recommendations[number - 1]
            recommendation = existing.get(finding.pk)
            if recommendation is None:
                recommendation = Recommendation(finding=finding, title=item.title, body=item.body)
                to_create.append((recommendation, result.project.unit))
                continue
            finding_before = getattr(finding, "_before", None)
            text_changed = (recommendation.title, recommendation.body) != (item.title, item.body)
            if text_changed:
                before = {"title": recommendation.title, "body": recommendation.body}
                recommendation.title, recommendation.body = item.title, item.body
                to_update.append(recommendation)
                self._detail(record, f"建议（{chinese_numeral(number)}）")
            if text_changed or finding_before:
                self.changed_texts.append(
                    TextChange(
                        recommendation_id=recommendation.pk,
                        before={
                            **({"finding": finding_before} if finding_before else {}),
                            **({"recommendation": before} if text_changed else {}),
                        },
                        after={
                            **(
                                {"finding": {"title": finding.title, "body": finding.body}}
                                if finding_before
                                else {}
                            ),
                            **(
                                {"recommendation": {"title": item.title, "body": item.body}}
                                if text_changed
                                else {}
                            ),
                        },
                    )
                )
        Recommendation.objects.bulk_update(to_update, list(TEXT_FIELDS), batch_size=500)
        Recommendation.objects.bulk_create([r for r, _ in to_create], batch_size=500)
        self.new_recommendations = to_create
        self.report.recommendations_created = len(to_create)
        self.report.recommendations_updated = len(to_update)

    def _categories(
        self, findings: list[tuple[ProjectRecord, EvaluationResult, Finding, int]]
    ) -> None:
        """Set the categories of each problem whose entry lists them (our YAML only)."""
        wanted = [
            (record, finding, number, record.findings[number - 1].categories)
            for record, _result, finding, number in findings
            if record.findings[number - 1].categories is not None
        ]
        if not wanted:
            return
        names = {name for *_rest, categories in wanted for name in categories}
        by_name = {c.name: c.pk for c in FindingCategory.objects.filter(name__in=names)}
        through = Finding.categories.through
        current: dict[int, set[int]] = {}
        for finding_id, category_id in through.objects.filter(
            finding_id__in=[finding.pk for _r, finding, _n, _c in wanted]
        ).values_list("finding_id", "findingcategory_id"):
            current.setdefault(finding_id, set()).add(category_id)
        to_add, to_remove = [], []
        for record, finding, number, categories in wanted:
            unknown = [name for name in categories if name not in by_name]
            if unknown:
                self.issues.append(
                    ImportIssue(
                        record.where,
                        "问题",
                        f"问题（{chinese_numeral(number)}）的问题类别"
                        + "、".join(f"「{name}」" for name in unknown)
                        + "不存在，请先在后台“问题类别”中添加，或改用已有类别",
                        letter="categories",
                    )
                )
                continue
            new = {by_name[name] for name in categories}
            old = current.get(finding.pk, set())
            if new == old:
                continue
            to_add += [through(finding_id=finding.pk, findingcategory_id=c) for c in new - old]
            to_remove += [(finding.pk, c) for c in old - new]
            if finding.pk not in self._created_finding_ids:
                self.report.categories_updated += 1
                self._detail(record, f"问题（{chinese_numeral(number)}）类别")
        for finding_id, category_id in to_remove:
            through.objects.filter(finding_id=finding_id, findingcategory_id=category_id).delete()
        through.objects.bulk_create(to_add, batch_size=500)

    # Report lines ---------------------------------------------------------------------------

    def _line(self, record: ProjectRecord, action: str, details: str) -> None:
        self.report.lines.append((record.where, record.unit, record.project, action, details))

    def _detail(self, record: ProjectRecord, what: str) -> None:
        for index, line in enumerate(self.report.lines):
            if line[0] == record.where:
                details = "、".join(filter(None, [line[4], what]))
                self.report.lines[index] = (line[0], line[1], line[2], "更新", details)
                return
        self._line(record, "更新", what)
