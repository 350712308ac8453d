"""Synthetic city- or province-scale data for the benchmarks (``manage.py seed_scale``).

The data look like the real thing to the database and to the pages: Chinese texts of the
lengths the 2020 table has, several years of rounds, most old items closed and the newest
year's spread over every state, deadlines around the year after each round, progress reports
with evidence, extension requests and an audit trail per item. It is written in bulk
(COPY on PostgreSQL, ``liwan.bulk_insert``) because going through the workflow item by item
would take hours at 200,000 items. Items and their audit trail are still written by the ledger's
services (``open_items`` and ``record_events`` with ``fast=True``): the one writer of both.

Deterministic for a given ``seed``, so two machines benchmark the same data.
"""

from __future__ import annotations

import datetime
import hashlib
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, ensure_role_groups
from evaluations.models import (
    EvaluationResult,
    EvaluationRound,
    Finding,
    FindingCategory,
    Project,
    Recommendation,
    Unit,
    grade_for_score,
)
from liwan import clock
from liwan.bulk_insert import copy_rows, insert_objects, reserve_ids
from rectification import services
from rectification.choices import (
    Agreement,
    ClosureOutcome,
    EventAction,
    ExtensionStatus,
    ItemStatus,
    PlanStatus,
    RectificationType,
    VerificationMethod,
)
from rectification.models import (
    Evidence,
    ExtensionRequest,
    ProgressUpdate,
    RectificationItem,
    RectificationPlan,
)

# Synthetic accounts share one password (hashed once: hashing 1,000 passwords would take minutes).
SCALE_PASSWORD = "Liwan-scale-2020"  # noqa: S105 # nosec B105
SCALE_STAFF_USERNAME = "scale.pingjia"
# The second reviewer (复核): closing takes two people.
SCALE_SECOND_USERNAME = "scale.fuhe"
_DAY = datetime.timedelta(days=1)
_MONTH = datetime.timedelta(days=30)

DISTRICTS = ["越秀", "海珠", "荔湾", "天河", "白云", "黄埔", "番禺", "花都", "南沙", "从化", "增城"]
DEPARTMENTS = [
    "财政局", "教育局", "卫生健康局", "民政局", "司法局", "人力资源和社会保障局",
    "住房和城乡建设局", "交通运输局", "水务局", "农业农村局", "商务局", "文化广电旅游体育局",
    "应急管理局",
    "市场监督管理局", "统计局", "医疗保障局", "城市管理和综合执法局", "退役军人事务局",
    "政务服务数据管理局", "科技工业和信息化局", "发展和改革局", "审计局", "机关事务管理局",
    "妇幼保健院", "疾病预防控制中心", "人民医院", "中医医院", "图书馆", "文化馆", "档案馆",
    "融媒体中心", "园林绿化管理中心", "环境卫生管理中心", "市政设施维护中心",
    "建设工程质量安全监督站", "残疾人联合会", "妇女联合会", "总工会", "团委", "红十字会",
    "工商业联合会", "科学技术协会",
    "老干部局", "信访局", "网格化服务管理中心", "公共资源交易中心",
]  # fmt: skip
SURNAMES = "陈李黄张刘何吴梁罗郑周林谢冯邓曾彭蔡许苏叶杨王朱胡郭马"
GIVEN = ["晓敏", "志强", "丽华", "伟明", "嘉欣", "永健", "淑仪", "国栋", "美玲", "家豪", "建国",
         "秀英", "振华", "志勇", "慧玲", "宪文", "丽娟", "德明", "文杰", "雅琴"]  # fmt: skip

PROJECT_SUBJECTS = [
    "城市道路绿化养护", "基层医疗卫生服务能力提升", "中小学校舍维修改造", "政务信息化系统运维",
    "农村人居环境整治", "食品安全抽检", "公共文化服务体系建设", "老年人居家养老服务",
    "困难群众救助", "就业创业补贴", "河涌综合整治", "垃圾分类处理", "社区网格化管理",
    "公共法律服务", "安全生产监管", "重点人群健康管理", "街区微改造", "招商引资专项",
    "基层党组织建设", "义务教育学位建设", "公立医院设备购置", "消防设施维护", "智慧城管平台建设",
    "退役军人服务保障", "妇幼健康服务", "全民健身设施建设", "档案数字化", "应急物资储备",
]  # fmt: skip
PROJECT_SUFFIXES = ["专项资金", "项目", "经费", "工作经费", "补助资金"]
FINDING_TITLES = [
    ("绩效目标与指标设置", "绩效目标设置不够明确，绩效指标不够细化量化。"),
    ("绩效目标与指标设置", "部分绩效指标值设定偏低，未能体现项目实际产出。"),
    ("预算编制与执行", "预算编制不够精准，预算执行进度滞后。"),
    ("预算编制与执行", "资金支出进度与项目实施进度不匹配，年底突击支出。"),
    ("项目管理与实施", "项目管理制度不够健全，实施过程记录不完整。"),
    ("项目管理与实施", "政府采购程序执行不够规范，合同管理有待加强。"),
    ("监督管理", "对承接单位的监督管理不到位，考核结果运用不足。"),
    ("监督管理", "绩效自评工作不够扎实，自评结果与实际情况存在偏差。"),
    ("宣传与群众满意度", "项目宣传力度不足，群众知晓率和满意度有待提高。"),
    ("信息化建设", "信息系统数据共享不充分，台账资料电子化程度不高。"),
    ("队伍建设", "专业技术人员配备不足，业务培训不够系统。"),
]  # fmt: skip
BODY_PHRASES = [
    "一是部分指标未能反映项目的核心产出和效果，难以衡量项目实施成效；",
    "二是预算编制时未充分结合以前年度执行情况，导致年中调整频繁；",
    "三是项目实施方案对工作任务、进度安排和责任分工的描述较为笼统；",
    "部分支出凭证附件不齐全，资金使用的合规性难以核实；",
    "现场核查发现部分设施维护不及时，存在安全隐患；",
    "满意度调查样本量偏小，调查结果的代表性不足；",
    "项目档案资料分散保存，未建立统一的台账管理制度；",
    "对第三方服务机构的履约情况缺乏定期考核，考核结果未与付款挂钩；",
]
RECOMMENDATION_PHRASES = [
    "建议结合项目实际，科学设置绩效目标，细化量化绩效指标，确保指标可衡量、可考核。",
    "建议加强预算编制的前期论证，合理安排资金支出进度，提高预算执行的均衡性。",
    "建议健全项目管理制度，规范采购和合同管理流程，完善项目实施过程资料的收集整理。",
    "建议建立常态化的监督检查机制，加强对承接单位的绩效考核，强化考核结果运用。",
    "建议扩大满意度调查覆盖面，加大项目宣传力度，及时回应群众关切。",
    "建议加快信息化建设，推进数据共享，提高台账资料电子化管理水平。",
    "建议加强业务培训，充实专业技术力量，提升项目管理人员的绩效管理能力。",
]
MEASURE_PHRASES = [
    "成立整改工作专班，由分管领导牵头，明确责任科室和完成时限；",
    "修订完善项目管理办法和资金管理制度，规范审批流程；",
    "重新梳理绩效目标和指标体系，报区财政局审核后执行；",
    "按月跟踪预算执行进度，对滞后事项实行挂图作战；",
    "组织业务培训两期，覆盖项目管理人员和财务人员；",
    "建立第三方机构履约考核台账，考核结果与合同付款挂钩；",
]
PROGRESS_PHRASES = [
    "已召开整改专题会议，部署整改任务，形成整改方案。",
    "已完成制度修订并印发实施，相关文件作为佐证材料上传。",
    "已完成指标体系调整，并在下一年度预算编制中应用。",
    "预算执行进度已提升至序时进度以上，后续按月跟踪。",
    "已完成业务培训，参训人员覆盖全部项目经办人员。",
    "已开展满意度回访，群众满意度较上年有所提升。",
]
EVIDENCE_NAMES = ["整改方案.pdf", "制度文件.pdf", "会议纪要.pdf", "培训签到表.pdf", "现场照片.pdf"]

# Share of items per status: older rounds are mostly closed, the newest is in full swing.
STATUS_MIX_OLD = [
    (ItemStatus.CLOSED, 0.86),
    (ItemStatus.SECOND_REVIEW, 0.01),
    (ItemStatus.SUBMITTED, 0.02),
    (ItemStatus.HEAD_REVIEW, 0.01),
    (ItemStatus.IN_PROGRESS, 0.06),
    (ItemStatus.OPEN, 0.04),
]
STATUS_MIX_NEW = [
    (ItemStatus.CLOSED, 0.22),
    (ItemStatus.SECOND_REVIEW, 0.04),
    (ItemStatus.SUBMITTED, 0.06),
    (ItemStatus.HEAD_REVIEW, 0.03),
    (ItemStatus.IN_PROGRESS, 0.42),
    (ItemStatus.OPEN, 0.23),
]
TYPE_MIX = (
    [RectificationType.IMMEDIATE, RectificationType.STAGED, RectificationType.ONGOING],
    [0.6, 0.25, 0.15],
)
OUTCOME_MIX = (
    [
        ClosureOutcome.RECTIFIED,
        ClosureOutcome.ONGOING,
        ClosureOutcome.NOT_RECTIFIED,
        ClosureOutcome.NOT_APPLICABLE,
    ],
    [0.8, 0.12, 0.05, 0.03],
)
# Past the unit (its head has confirmed): at the bureau, or reviewed there.
_CONFIRMED = (ItemStatus.SUBMITTED, ItemStatus.SECOND_REVIEW, ItemStatus.CLOSED)
_FIRST_REVIEWED = (ItemStatus.SECOND_REVIEW, ItemStatus.CLOSED)


def _pdf(number: int) -> bytes:
    # Small but genuine PDFs, so a downloaded piece of evidence is a real file.
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        + f"% liwan scale evidence {number}\n".encode()
        + b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


@dataclass
class ScaleReport:
    units: int = 0
    users: int = 0
    rounds: int = 0
    projects: int = 0
    findings: int = 0
    items: int = 0
    progress: int = 0
    evidence: int = 0
    extensions: int = 0
    events: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


class ScaleSeeder:
    def __init__(
        self, *, units: int, items: int, years: int, last_year: int, seed: int = 2020
    ) -> None:
        if units < 1 or items < units or years < 1:
            raise ValueError("需要至少 1 个单位、1 个年度，且条目数不少于单位数。")
        self.n_units = units
        self.n_items = items
        self.year_list = list(range(last_year - years + 1, last_year + 1))
        self.rng = random.Random(seed)  # noqa: S311 # nosec B311 — synthetic data, not secrets
        self.report = ScaleReport()
        self.tz = timezone.get_current_timezone()

    # --- helpers -----------------------------------------------------------------------------

    def _text(self, phrases: list[str], low: int, high: int) -> str:
        return "".join(self.rng.sample(phrases, self.rng.randint(low, min(high, len(phrases)))))

    def _moment(self, day: datetime.date, hour: int | None = None) -> datetime.datetime:
        hour = self.rng.randint(8, 18) if hour is None else hour
        return datetime.datetime(
            day.year, day.month, day.day, hour, self.rng.randint(0, 59), tzinfo=self.tz
        )

    def _status(self, year: int) -> str:
        mix = STATUS_MIX_NEW if year == self.year_list[-1] else STATUS_MIX_OLD
        pick = self.rng.random()
        for status, share in mix:
            if pick < share:
                return status
            pick -= share
        return mix[-1][0]

    # --- steps -------------------------------------------------------------------------------

    def run(self) -> ScaleReport:
        with transaction.atomic():
            self._units_and_people()
            self._rounds()
            self._ledger()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # What autovacuum would do a while later: fresh planner statistics, and the
            # visibility map that lets counts and the deep pages read indexes only.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        return self.report

    def _units_and_people(self) -> None:
        names = []
        for i in range(self.n_units):
            district = DISTRICTS[i % len(DISTRICTS)]
            department = DEPARTMENTS[(i // len(DISTRICTS)) % len(DEPARTMENTS)]
            cycle = i // (len(DISTRICTS) * len(DEPARTMENTS))
            suffix = f"（第{cycle + 1}片区）" if cycle else ""
            names.append(f"广州市{district}区{department}{suffix}")
        self.units = [Unit(name=name, short_name=name[3:][:30]) for name in names]
        insert_objects(self.units)
        self.report.units = len(self.units)

        password = make_password(SCALE_PASSWORD)
        now = timezone.now()
        users = [
            User(
                username=SCALE_STAFF_USERNAME,
                full_name="评价科（压测）",
                email="scale.pingjia@liwan.example",
                password=password,
                password_changed_at=now,
            ),
            User(
                username=SCALE_SECOND_USERNAME,
                full_name="评价科复核（压测）",
                email="scale.fuhe@liwan.example",
                password=password,
                password_changed_at=now,
            ),
        ]
        for n, unit in enumerate(self.units, start=1):
            for kind in ("staff", "head"):
                name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
                users.append(
                    User(
                        username=f"scale{n:04d}.{kind}",
                        full_name=name,
                        email=f"scale{n:04d}.{kind}@liwan.example",
                        unit=unit,
                        password=password,
                        password_changed_at=now,
                    )
                )
        insert_objects(users)
        created = {u.username: u for u in User.objects.filter(username__startswith="scale")}
        self.staff_user = created[SCALE_STAFF_USERNAME]
        self.second_user = created[SCALE_SECOND_USERNAME]
        self.unit_staff = {u.unit_id: u for u in created.values() if u.username.endswith(".staff")}
        self.unit_heads = {u.unit_id: u for u in created.values() if u.username.endswith(".head")}
        # The role groups exist after migrate; ensuring them keeps the seeder working on a
        # database whose groups were emptied (a flushed test database).
        groups = ensure_role_groups()
        memberships = [
            User.groups.through(user_id=reviewer.pk, group_id=groups[Role.EVALUATION_STAFF].pk)
            for reviewer in (self.staff_user, self.second_user)
        ]
        for user in created.values():
            if user.username.endswith(".staff"):
                memberships.append(
                    User.groups.through(user_id=user.pk, group_id=groups[Role.UNIT_STAFF].pk)
                )
            elif user.username.endswith(".head"):
                memberships.append(
                    User.groups.through(user_id=user.pk, group_id=groups[Role.UNIT_HEAD].pk)
                )
        insert_objects(memberships)
        self.report.users = len(created)

    def _rounds(self) -> None:
        insert_objects(
            [
                EvaluationRound(
                    year=year,
                    title=f"{year}年度财政支出项目绩效评价汇总表（模拟数据）",
                    evaluator="第三方评价机构（模拟）",
                    issued_on=datetime.date(year + 1, 4, 30),
                )
                for year in self.year_list
            ]
        )
        self.rounds = {r.year: r for r in EvaluationRound.objects.filter(year__in=self.year_list)}
        self.report.rounds = len(self.rounds)

    def _ledger(self) -> None:
        rng = self.rng
        categories = {c.name: c for c in FindingCategory.objects.all()}
        # Items per (unit, year), spread ±50 % around the mean, summing to exactly n_items.
        cells = [(unit, year) for year in self.year_list for unit in self.units]
        weights = [rng.uniform(0.5, 1.5) for _ in cells]
        total = sum(weights)
        quotas = [max(1, int(self.n_items * w / total)) for w in weights]
        for k in range(self.n_items - sum(quotas)):
            quotas[k % len(quotas)] += 1
        while sum(quotas) > self.n_items:
            k = max(range(len(quotas)), key=quotas.__getitem__)
            quotas[k] -= 1

        # Each unit has a pool of projects; each year evaluates some of them again.
        projects: list[Project] = []
        pools: dict[int, list[Project]] = {}
        for unit in self.units:
            subjects = rng.sample(PROJECT_SUBJECTS, 12)
            pool = [
                Project(unit=unit, name=f"{unit.short_name[:8]}{s}{rng.choice(PROJECT_SUFFIXES)}")
                for s in subjects
            ]
            seen: set[str] = set()
            pools[unit.pk] = [p for p in pool if not (p.name in seen or seen.add(p.name))]
            projects += pools[unit.pk]
        insert_objects(projects)
        self.report.projects = len(projects)

        evidence_files = self._evidence_files()
        seq = dict.fromkeys(self.year_list, 0)
        results: list[EvaluationResult] = []
        finding_plan: list[tuple[EvaluationResult, int, int]] = []  # result, number, year
        for (unit, year), quota in zip(cells, quotas, strict=True):
            pool = pools[unit.pk]
            remaining = quota
            for project in rng.sample(pool, len(pool)):
                if remaining <= 0:
                    break
                count = min(remaining, rng.randint(2, 6))
                seq[year] += 1
                budget = Decimal(rng.randint(2000, 900000)) / 100
                rate = Decimal(rng.randint(6000, 10000)) / 100
                score = Decimal(rng.randint(6000, 9800)) / 100
                result = EvaluationResult(
                    round=self.rounds[year],
                    project=project,
                    seq=seq[year],
                    goal="通过实施本项目，" + self._text(MEASURE_PHRASES, 1, 2),
                    budget=budget,
                    spent=(budget * rate / 100).quantize(Decimal("0.01")),
                    completion_rate=rate,
                    score=score,
                    grade=grade_for_score(score),
                )
                results.append(result)
                finding_plan += [(result, n, year) for n in range(1, count + 1)]
                remaining -= count
            if remaining > 0:  # the pool ran out: the last result takes the rest
                last = results[-1]
                start = sum(1 for r, _, _ in finding_plan if r is last)
                finding_plan += [(last, start + n, year) for n in range(1, remaining + 1)]
        insert_objects(results)

        findings = []
        for result, number, _ in finding_plan:
            category, title = rng.choice(FINDING_TITLES)
            finding = Finding(
                result=result,
                number=number,
                title=title,
                body=self._text(BODY_PHRASES, 2, 4),
            )
            finding.category_names = {category}  # type: ignore[attr-defined]
            if rng.random() < 0.3:
                finding.category_names.add(rng.choice(FINDING_TITLES)[0])  # type: ignore[attr-defined]
            findings.append(finding)
        insert_objects(findings)
        through = Finding.categories.through
        insert_objects(
            [
                through(finding_id=f.pk, findingcategory_id=categories[name].pk)
                for f in findings
                for name in f.category_names  # type: ignore[attr-defined]
                if name in categories
            ]
        )
        recommendations = [
            Recommendation(finding=f, title=rng.choice(RECOMMENDATION_PHRASES), body="")
            for f in findings
        ]
        insert_objects(recommendations)
        self.report.findings = len(findings)
        self._items(recommendations, finding_plan, evidence_files)

    def _evidence_files(self) -> list[tuple[str, str, int, str]]:
        """A few real stored PDFs that the synthetic evidence records point at."""
        files = []
        for n, name in enumerate(EVIDENCE_NAMES):
            content = _pdf(n)
            sha = hashlib.sha256(content).hexdigest()
            stored = default_storage.save(f"evidence/scale/{sha[:16]}-{name}", ContentFile(content))
            files.append((stored, name, len(content), sha))
        return files

    def _items(
        self,
        recommendations: list[Recommendation],
        plan: list[tuple[EvaluationResult, int, int]],
        evidence_files: list[tuple[str, str, int, str]],
    ) -> None:
        rng = self.rng
        staff = self.staff_user
        items: list[dict[str, Any]] = []
        history_days: list[datetime.date] = []
        today = clock.today()
        escalate_after = settings.LIWAN_REMINDER_ESCALATE_AFTER_DAYS
        for recommendation, (result, _number, year) in zip(recommendations, plan, strict=True):
            unit_id = result.project.unit_id
            status = self._status(year)
            # Items are created when the round's report arrives (May of the next year), but
            # never in the future when the newest round is this year's.
            created = min(datetime.date(year + 1, 5, rng.randint(6, 28)), today - 2 * _MONTH)
            deadline = datetime.date(year + 1, 12, 31) + datetime.timedelta(
                days=rng.randint(-150, 120)
            )
            owner = self.unit_staff.get(unit_id) if rng.random() < 0.92 else None
            item: dict[str, Any] = {
                "recommendation": recommendation,
                "unit_id": unit_id,
                "owner": owner,
                "deadline": deadline,
                "status": status,
                "created_at": self._moment(created, 9),
                "updated_at": self._moment(created),
            }
            if status != ItemStatus.OPEN:
                # The accepted plan's type and measures (the plan rows follow in _history).
                item["measures"] = self._text(MEASURE_PHRASES, 2, 4)
                item["rectification_type"] = rng.choices(*TYPE_MIX)[0]
            if status in _FIRST_REVIEWED:
                reviewed = deadline + datetime.timedelta(days=rng.randint(-90, 30))
                reviewed = min(max(reviewed, created + _MONTH), today - 2 * _DAY)
                outcome = rng.choices(*OUTCOME_MIX)[0]
                item["result"] = "经整改，" + self._text(PROGRESS_PHRASES, 1, 2)
                item["verification_method"] = rng.choice(VerificationMethod.values)
                item["verification_note"] = "经核查，整改佐证材料齐全，整改措施已落实。"
                item["verified_by"] = staff.full_name
                item["verified_on"] = reviewed
                item["first_reviewer"] = staff
                item["first_reviewed_at"] = self._moment(reviewed)
                item["updated_at"] = item["first_reviewed_at"]
                if status == ItemStatus.SECOND_REVIEW:
                    item["proposed_outcome"] = outcome
                else:
                    # 复核 and 销号 by the second reviewer, the next day.
                    item["closure_outcome"] = outcome
                    item["closed_at"] = self._moment(reviewed + _DAY)
                    item["closed_by"] = self.second_user
                    item["updated_at"] = item["closed_at"]
            # Steady state of the reminder pipeline: an item long overdue today was escalated
            # (督办) on the day it crossed the line, as the daily sweep would have done.
            escalate_on = deadline + datetime.timedelta(days=escalate_after)
            if status != ItemStatus.CLOSED and escalate_on < today:
                item["escalated_at"] = self._moment(escalate_on, 9)
            items.append(item)
            history_days.append(created)
        # The ledger's writer fills the copies of the evaluation and records each item's
        # creation, dated when the item was created.
        created_items = services.open_items(
            items=items,
            actor=self.staff_user,
            note="由模拟数据生成",
            units={unit.pk: unit for unit in self.units},
            fast=True,
        )
        for created_item, day in zip(created_items, history_days, strict=True):
            created_item.history_day = day  # type: ignore[attr-defined]
        self.report.items = len(items)
        self.report.events = len(items)
        for status in ItemStatus.values:
            self.report.by_status[status] = sum(1 for i in items if i["status"] == status)
        self._history(created_items, evidence_files)

    def _history(
        self, items: list[RectificationItem], evidence_files: list[tuple[str, str, int, str]]
    ) -> None:
        """Progress reports, evidence, extension requests and the audit trail of every item.

        Plain tuples rather than model instances: these are the big tables (about seven audit
        records per item), and building a million instances takes longer than storing them.
        """
        rng = self.rng
        staff_id = self.staff_user.pk
        names = {u.pk: u.display_name for u in self.unit_staff.values()}
        second_id = self.second_user.pk
        progress: list[tuple] = []  # (item, author, note, created_at)
        plans: list[tuple] = []
        events: list[services.EventRecord] = []
        extensions: list[tuple] = []

        def event(
            item_id: int,
            action: EventAction,
            actor: int | None,
            at: datetime.datetime,
            after: dict | None = None,
        ) -> None:
            events.append(services.EventRecord(item_id, action, actor, after=after, created_at=at))

        today = clock.today()
        for item in items:
            day: datetime.date = item.history_day  # type: ignore[attr-defined]
            # Nothing after the closure (or after today): later steps share the last day.
            last = item.closed_at.date() - _DAY if item.closed_at else today - _DAY
            author = item.owner_id or self.unit_staff[item.unit_id].pk
            if item.owner_id:
                after = {"owner": names[item.owner_id], "deadline": item.deadline.isoformat()}
                event(
                    item.pk,
                    EventAction.ASSIGNED,
                    staff_id,
                    self._moment(day + datetime.timedelta(days=2)),
                    after,
                )
            if item.escalated_at:
                event(item.pk, EventAction.ESCALATED, None, item.escalated_at)
            if item.status == ItemStatus.OPEN:
                continue
            # The plan (整改方案), submitted and accepted: it moved the item to 整改中.
            day = min(day + datetime.timedelta(days=rng.randint(5, 20)), last)
            submitted_at = self._moment(day)
            event(item.pk, EventAction.PLAN_SUBMITTED, author, submitted_at)
            day = min(day + datetime.timedelta(days=rng.randint(1, 5)), last)
            accepted_at = self._moment(day)
            event(item.pk, EventAction.PLAN_ACCEPTED, staff_id, accepted_at)
            plans.append(
                (
                    item.pk,
                    1,
                    PlanStatus.ACCEPTED,
                    item.rectification_type,
                    item.measures,
                    "逐年推进，纳入年度工作计划。"
                    if item.rectification_type == RectificationType.ONGOING
                    else "",
                    Agreement.AGREE,
                    "",
                    [],
                    author,
                    submitted_at,
                    staff_id,
                    accepted_at,
                    "",
                )
            )
            reports = {
                ItemStatus.IN_PROGRESS: rng.randint(1, 3),
                ItemStatus.HEAD_REVIEW: rng.randint(2, 3),
                ItemStatus.SUBMITTED: rng.randint(2, 3),
                ItemStatus.SECOND_REVIEW: rng.randint(2, 4),
                ItemStatus.CLOSED: rng.randint(2, 4),
            }[item.status]
            for _ in range(reports):
                day = min(day + datetime.timedelta(days=rng.randint(10, 40)), last)
                at = self._moment(day)
                progress.append((item.pk, author, self._text(PROGRESS_PHRASES, 1, 3), at))
                event(item.pk, EventAction.PROGRESS, author, at)
            if item.status != ItemStatus.CLOSED and rng.random() < 0.04:
                pending = rng.random() < 0.5
                at = self._moment(day)
                extensions.append(
                    (
                        item.pk,
                        item.deadline,
                        item.deadline + datetime.timedelta(days=90),
                        "整改涉及跨年度预算安排，需在下一预算年度内完成。",
                        ExtensionStatus.PENDING if pending else ExtensionStatus.REJECTED,
                        author,
                        at,
                        None if pending else staff_id,
                        None if pending else at + datetime.timedelta(days=3),
                        "" if pending else "理由不充分，请按原期限完成。",
                    )
                )
                event(item.pk, EventAction.EXTENSION_REQUESTED, author, at)
            if item.status in (ItemStatus.HEAD_REVIEW, *_CONFIRMED):
                day = min(day + datetime.timedelta(days=rng.randint(1, 10)), last)
                event(item.pk, EventAction.SUBMITTED, author, self._moment(day))
            if item.status in _CONFIRMED:
                day = min(day + _DAY, last)
                head = self.unit_heads[item.unit_id].pk
                event(item.pk, EventAction.HEAD_CONFIRMED, head, self._moment(day))
            if item.status in _FIRST_REVIEWED:
                event(item.pk, EventAction.FIRST_REVIEWED, staff_id, item.first_reviewed_at)
            if item.status == ItemStatus.CLOSED:
                event(item.pk, EventAction.CLOSED, second_id, item.closed_at)

        first = reserve_ids(ProgressUpdate, len(progress))
        copy_rows(
            ProgressUpdate,
            ("id", "item_id", "author_id", "note", "created_at"),
            [(first + n, *row) for n, row in enumerate(progress)],
        )
        evidence = []
        for n, (_, author, _, at) in enumerate(progress):
            if rng.random() < 0.6:
                stored, name, size, sha = rng.choice(evidence_files)
                evidence.append((first + n, stored, name, size, "application/pdf", sha, author, at))
        copy_rows(
            Evidence,
            (
                "progress_id",
                "file",
                "original_name",
                "size",
                "content_type",
                "sha256",
                "uploaded_by_id",
                "created_at",
            ),
            evidence,
        )
        copy_rows(
            ExtensionRequest,
            (
                "item_id",
                "previous_deadline",
                "requested_deadline",
                "reason",
                "status",
                "requested_by_id",
                "requested_at",
                "decided_by_id",
                "decided_at",
                "decision_note",
            ),
            extensions,
        )
        copy_rows(
            RectificationPlan,
            (
                "item_id",
                "version",
                "status",
                "rectification_type",
                "measures",
                "roadmap",
                "agreement",
                "agreement_reason",
                "milestones",
                "submitted_by_id",
                "submitted_at",
                "decided_by_id",
                "decided_at",
                "decision_note",
            ),
            plans,
        )
        services.record_events(events, fast=True)
        self.report.progress = len(progress)
        self.report.evidence = len(evidence)
        self.report.extensions = len(extensions)
        self.report.events += len(events)
