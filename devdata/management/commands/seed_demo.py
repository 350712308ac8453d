"""python manage.py seed_demo — demo accounts and a lived-in 2020 ledger, for trying the app.

Idempotent: accounts are created once (their password is not reset on later runs) and an item
gets its demo history only while it has none. Every state is reached through the real
services, so the demo also exercises the workflow and its audit trail. Refuses to run with
DEBUG off, so it can never touch a production database.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, role_group
from evaluations.models import EvaluationResult, Unit
from liwan import clock
from rectification import services
from rectification.choices import (
    Agreement,
    ClosureOutcome,
    EventAction,
    ExtensionStatus,
    FollowUpStatus,
    ItemStatus,
    PlanStatus,
    RectificationType,
    SupervisionKind,
    VerificationMethod,
)
from rectification.models import (
    Event,
    ExtensionRequest,
    FollowUp,
    Milestone,
    RectificationItem,
    RectificationPlan,
    RepeatLink,
    SupervisionRecord,
)
from rectification.repeats import repeat_candidates
from rectification.uploads import check_evidence
from results.choices import BudgetAdvice
from results.models import BudgetDecision
from results.services import decide_budget_advice

# Printed to the operator; the command refuses to run with DEBUG off.
DEMO_PASSWORD = "Liwan-demo-2020"  # noqa: S105 # nosec B105

# Short names the evaluation report itself uses for the 2020 units.
SHORT_NAMES = {
    "广州市荔湾区市政园林绿化管理中心": "区市政绿化中心",
    "广州市荔湾区妇幼保健院": "区妇幼保健院",
    "广州市荔湾区政务服务数据管理局": "区政务数据局",
    "广州市荔湾区市场监督管理局": "区市场监管局",
    "广州市荔湾区农业农村和水务局": "区农水局",
    "广州市荔湾区卫生健康局": "区卫生健康局",
    "中国共产党广州市荔湾区委员会组织部": "区委组织部",
    "广州市荔湾区商务和投资促进局": "区商务投促局",
    "广州市荔湾区财政局": "区财政局",
    "广州市荔湾区教育局": "区教育局",
}
STAFF_NAMES = ["陈晓敏", "李志强", "黄丽华", "张伟明", "刘嘉欣", "何永健", "吴淑仪", "梁国栋",
               "罗美玲", "郑家豪"]  # fmt: skip
HEAD_NAMES = ["周建国", "林秀英", "谢振华", "冯志勇", "邓慧玲", "曾宪文", "彭丽娟", "蔡德明",
              "许文杰", "苏雅琴"]  # fmt: skip

# A tiny but genuine PDF, so evidence passes the same content check as a real upload.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class Step:
    """One demo step, run as if it were ``ago`` days before today. ``verb`` names a method
    ``Command._<verb>``; ``options`` are its keyword arguments (days are counted from today)."""

    ago: int
    verb: str
    options: tuple[tuple[str, object], ...] = ()


def _s(ago: int, verb: str, **options: object) -> Step:
    return Step(ago, verb, tuple(options.items()))


def _worked(assigned: int, planned: int, progress: int, **plan: object) -> tuple[Step, ...]:
    """Assigned, plan submitted and accepted two days later, progress with evidence."""
    return (
        _s(assigned, "assign"),
        _s(planned, "plan", **plan),
        _s(planned - 2, "accept_plan"),
        _s(progress, "progress"),
    )


def _at_bureau(submitted: int) -> tuple[Step, ...]:
    """Submitted by the unit's staff and confirmed by its head a day later (负责人确认)."""
    return (_s(submitted, "submit"), _s(submitted - 1, "head_confirm"))


def _closed(
    reviewed: int, first: str, second: str, outcome: str = ClosureOutcome.RECTIFIED
) -> tuple[Step, ...]:
    """初审 by ``first``, 复核 and 销号 by ``second`` two days later (with the second
    reviewer's consent where the outcome is 不予整改)."""
    consent = outcome == ClosureOutcome.NOT_APPLICABLE
    return (
        _s(reviewed, "first_review", by=first, outcome=outcome),
        _s(reviewed - 2, "second_review", by=second, consent=consent),
    )


@dataclass(frozen=True)
class Scenario:
    """Where a demo item stands: its deadline (days from today) and the steps that got it
    there, each on its own past day, so the history and the reminders read as real ones."""

    key: str
    deadline: int
    steps: tuple[Step, ...]


STAGED = ({"title": "完成问题排查，形成问题清单", "due": -20},
          {"title": "修订内部管理制度并印发", "due": 5},
          {"title": "完成整改并开展效果评估", "due": 50})  # fmt: skip

# One scenario per 2020 item, in the order of the 2020 table, so every state of the workflow
# is on screen after `make run` (the README lists them).
# fmt: off
SCENARIOS = [
    Scenario("upcoming", 45, (_s(2, "assign", owner=False),)),
    Scenario("plan-due-soon", 40, (_s(25, "assign"),)),
    Scenario("plan-overdue", 20, (_s(40, "assign"),)),
    Scenario("plan-submitted", 55, (_s(20, "assign"), _s(3, "plan", kind="staged",
             milestones=({"title": "梳理问题并制定制度草案", "due": 20},
                         {"title": "制度印发并组织培训", "due": 50})))),
    Scenario("plan-returned", 35, (_s(30, "assign"), _s(12, "plan"),
                                   _s(8, "return_plan"))),
    Scenario("in-progress", 12, _worked(30, 22, 10)),
    Scenario("extension-pending", 3, (*_worked(40, 30, 15), _s(1, "request_extension", to=36))),
    Scenario("long-overdue", -20, _worked(70, 60, 45)),
    Scenario("staged", 60, (_s(50, "assign"), _s(45, "plan", kind="staged", milestones=STAGED),
             _s(43, "accept_plan"), _s(22, "report_milestone", number=1),
             _s(20, "accept_milestone", number=1),
             _s(2, "report_milestone", number=2))),
    Scenario("milestone-overdue", 30, (_s(50, "assign"), _s(45, "plan", kind="staged",
             milestones=({"title": "完成资金清查", "due": -15},
                         {"title": "追回或调整违规资金", "due": -3},
                         {"title": "建立资金监管长效机制", "due": 25})),
             _s(44, "accept_plan"), _s(16, "report_milestone", number=1),
             _s(14, "accept_milestone", number=1))),
    Scenario("ongoing-extended", 10, (*_worked(60, 50, 30, kind="ongoing"),
             _s(20, "request_extension", to=70), _s(18, "approve_extension"))),
    Scenario("plan-revision", 40, (*_worked(40, 35, 20),
             _s(4, "plan", kind="staged",
                milestones=({"title": "完成系统升级改造", "due": 10},
                            {"title": "上线运行并验收", "due": 35})))),
    Scenario("awaiting-head", 15, (*_worked(45, 40, 12), _s(1, "submit"))),
    Scenario("head-sent-back", 18, (*_worked(45, 40, 12), _s(6, "submit"),
                                    _s(4, "head_return"))),
    Scenario("submitted", 8, (*_worked(50, 44, 15), *_at_bureau(4))),
    Scenario("returned", 15, (*_worked(50, 44, 20), *_at_bureau(12), _s(7, "return_"))),
    Scenario("first-reviewed", 5, (*_worked(50, 44, 15), *_at_bureau(8),
             _s(2, "first_review", by="pingjia"))),
    Scenario("first-reviewed-by-fuhe", 6, (*_worked(50, 44, 15), *_at_bureau(9),
             _s(1, "first_review", by="fuhe"))),
    Scenario("closed-followed-up", -120, (*_worked(300, 290, 240), *_at_bureau(200),
             *_closed(195, "pingjia", "fuhe"), _s(190, "schedule_follow_up", due=-10),
             _s(8, "record_follow_up", holds=True),
             _s(8, "schedule_follow_up", due=170))),
    Scenario("closed-ongoing", -60, (*_worked(250, 240, 120, kind="ongoing"), *_at_bureau(100),
             *_closed(95, "fuhe", "pingjia", outcome=ClosureOutcome.ONGOING),
             _s(90, "schedule_follow_up", due=-2))),
    Scenario("not-applicable", -30, (*_worked(120, 110, 80, agreement=Agreement.DISAGREE),
             *_at_bureau(60),
             *_closed(55, "pingjia", "fuhe", outcome=ClosureOutcome.NOT_APPLICABLE))),
    Scenario("relapsed", -150, (*_worked(330, 320, 250), *_at_bureau(220),
             *_closed(215, "fuhe", "pingjia"), _s(210, "schedule_follow_up", due=-20),
             _s(15, "record_follow_up", holds=False, new_deadline=45))),
]
# fmt: on

# The items of the made-up 2019 table: rectified and closed about two years ago.
EARLIER_YEAR = Scenario("closed-long-ago", -600, (*_worked(700, 690, 640), *_at_bureau(620),
                        *_closed(615, "pingjia", "fuhe")))  # fmt: skip


def _days_ago(days: int):  # type: ignore[no-untyped-def]
    """Run a demo step as if it were ``days`` days ago, during office hours."""
    moment = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    return clock.running_at(moment - datetime.timedelta(days=days))


def _actor(user: User) -> services.Actor:
    return services.Actor(user=user, ip="127.0.0.1")


def _pdf(name: str):  # type: ignore[no-untyped-def]
    return check_evidence(SimpleUploadedFile(name, DEMO_PDF, "application/pdf"))


@dataclass
class _Demo:
    """Plays one item's steps through the real services, as its unit and the bureau would.
    Each public method is a :class:`Step` verb; dates are given in days from ``today``."""

    item: RectificationItem
    today: datetime.date
    deadline: datetime.date
    staff: User  # the unit's 经办人
    head: User  # the unit's 负责人
    reviewers: dict[str, User]

    def _on(self, days: int) -> datetime.date:
        return self.today + datetime.timedelta(days=days)

    @property
    def _bureau(self) -> services.Actor:
        return _actor(self.reviewers["pingjia"])

    def assign(self, owner: bool = True) -> None:
        services.assign(
            item=self.item,
            actor=self._bureau,
            owner=self.staff if owner else None,
            deadline=self.deadline,
        )

    def plan(
        self,
        kind: str = RectificationType.IMMEDIATE,
        agreement: str = Agreement.AGREE,
        milestones: tuple[dict[str, object], ...] = (),
    ) -> None:
        title = self.item.recommendation.finding.title
        services.submit_plan(
            item=self.item,
            actor=_actor(self.staff),
            rectification_type=kind,
            measures=(
                f"针对“{title}”问题：一是成立整改工作专班，明确分管领导和责任科室；"
                "二是制定整改方案和时间表；三是建立整改台账，逐项对账销号。"
            ),
            agreement=agreement,
            agreement_reason=(
                "该项目已于2021年按区政府决定整体划转至市级部门实施，本单位不再承担，建议不予整改。"
                if agreement == Agreement.DISAGREE
                else ""
            ),
            roadmap=(
                "2025年：建立长效管理机制；2026年：全面推开并开展绩效自评；"
                "2027年：巩固提升，纳入年度考核。"
                if kind == RectificationType.ONGOING
                else ""
            ),
            milestones=[
                services.PlannedMilestone(
                    title=str(m["title"]),
                    deadline=self._on(int(m["due"])),  # type: ignore[call-overload]
                    evidence="相关文件、会议纪要或验收材料",
                )
                for m in milestones
            ],
        )

    def _pending_plan(self) -> RectificationPlan:
        return RectificationPlan.objects.get(item=self.item, status=PlanStatus.SUBMITTED)

    def accept_plan(self) -> None:
        services.decide_plan(plan=self._pending_plan(), actor=self._bureau, accept=True)

    def return_plan(self) -> None:
        services.decide_plan(
            plan=self._pending_plan(),
            actor=self._bureau,
            accept=False,
            note="整改措施过于笼统，请按问题逐项细化措施、责任人和完成时限后重新提交。",
        )

    def progress(self) -> None:
        services.add_progress(
            item=self.item,
            actor=_actor(self.staff),
            note="已召开专题会议部署整改工作，印发整改工作方案，相关科室按方案推进。",
            files=[_pdf("整改工作方案.pdf")],
        )

    def _milestone(self, number: int) -> Milestone:
        return Milestone.objects.get(item=self.item, number=number)

    def report_milestone(self, number: int) -> None:
        services.report_milestone(
            milestone=self._milestone(number),
            actor=_actor(self.staff),
            note="本阶段工作已完成，相关材料见附件。",
            files=[_pdf(f"第{number}阶段成果.pdf")],
        )

    def accept_milestone(self, number: int) -> None:
        services.decide_milestone(
            milestone=self._milestone(number), actor=self._bureau, accept=True
        )

    def request_extension(self, to: int) -> None:
        services.request_extension(
            item=self.item,
            actor=_actor(self.staff),
            requested_deadline=self._on(to),
            reason="涉及跨部门协调，需待区政府常务会议审议后实施，申请延期。",
        )

    def approve_extension(self) -> None:
        services.decide_extension(
            extension=ExtensionRequest.objects.get(item=self.item, status=ExtensionStatus.PENDING),
            actor=self._bureau,
            approve=True,
            note="同意延期，请按新时限完成。",
        )

    def submit(self) -> None:
        services.submit(
            item=self.item, actor=_actor(self.staff), result="已按整改措施完成整改，详见佐证材料。"
        )

    def head_confirm(self) -> None:
        services.head_signoff(item=self.item, actor=_actor(self.head), confirm=True)

    def head_return(self) -> None:
        services.head_signoff(
            item=self.item,
            actor=_actor(self.head),
            confirm=False,
            note="整改结果表述不完整，请补充整改前后对比情况后再提交。",
        )

    def return_(self) -> None:
        services.return_item(
            item=self.item,
            actor=self._bureau,
            reason="佐证材料不足，请补充整改前后对比资料后重新提交。",
        )

    def first_review(self, by: str, outcome: str = ClosureOutcome.RECTIFIED) -> None:
        reviewer = self.reviewers[by]
        note = {
            ClosureOutcome.ONGOING: "阶段性整改任务已完成，剩余事项按路线图持续推进，纳入回头看。",
            ClosureOutcome.NOT_APPLICABLE: (
                "经核实，该项目已整体划转市级部门实施，原建议不再适用，同意不予整改。"
            ),
        }.get(outcome, "经书面审核，整改措施已落实，佐证材料齐全，同意销号。")
        services.first_review(
            item=self.item,
            actor=_actor(reviewer),
            outcome=ClosureOutcome(outcome),
            method=VerificationMethod.DOCUMENT_REVIEW,
            verified_by=reviewer.full_name.split()[-1],
            verified_on=clock.today(),
            note=note,
        )

    def second_review(self, by: str, consent: bool = False) -> None:
        services.second_review(
            item=self.item, actor=_actor(self.reviewers[by]), confirm=True, consent=consent
        )

    def schedule_follow_up(self, due: int) -> None:
        services.schedule_follow_up(item=self.item, actor=self._bureau, due_on=self._on(due))

    def record_follow_up(self, holds: bool, new_deadline: int | None = None) -> None:
        services.record_follow_up(
            follow_up=FollowUp.objects.get(item=self.item, status=FollowUpStatus.SCHEDULED),
            actor=self._bureau,
            holds=holds,
            finding=(
                "回头看抽查：制度执行到位，整改成效巩固。"
                if holds
                else "回头看发现问题反弹：新增同类违规支出，整改未落实到位。"
            ),
            new_deadline=self._on(new_deadline) if new_deadline is not None else None,
        )


def _play(
    scenario: Scenario, item: RectificationItem, accounts: dict[str, User], today: datetime.date
) -> None:
    # The demo accounts of the item's unit do the unit's work (not any other 经办人 or 负责人
    # that may have been added to the unit since).
    unit_key = next(
        key.rsplit(".", 1)[0] for key, user in accounts.items() if user.unit_id == item.unit_id
    )
    demo = _Demo(
        item=item,
        today=today,
        deadline=today + datetime.timedelta(days=scenario.deadline),
        staff=accounts[f"{unit_key}.staff"],
        head=accounts[f"{unit_key}.head"],
        reviewers={key: accounts[key] for key in ("pingjia", "fuhe")},
    )
    for step in scenario.steps:
        # Each step at its own past moment: deadlines then lay ahead, and the history and the
        # reminders read as they would have.
        with _days_ago(step.ago):
            getattr(demo, step.verb)(**dict(step.options))
        item.refresh_from_db()


class Command(BaseCommand):
    help = "创建演示账号并为 2020 年度整改事项生成演示进度（仅限 DEBUG 模式）。"

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        if not settings.DEBUG:
            raise CommandError("seed_demo 只能在 DEBUG 模式下运行，以免演示数据进入生产数据库。")
        # Numbered in the order of the 2020 table (序号), so unit01 is the table's first unit.
        # Only the 2020 round counts: a later year's table numbers its units differently.
        units = list(
            Unit.objects.filter(name__in=SHORT_NAMES, projects__results__round__year=2020)
            .annotate(first_seq=Min("projects__results__seq"))
            .order_by("first_seq", "name")
        )
        if not units:
            raise CommandError(
                "没有 2020 年度的单位：请先运行 import_evaluations fixtures/liwan_2020.yaml"
            )
        with transaction.atomic():
            accounts = self._accounts(units)
            seeded = self._ledger(accounts)
            self._budget(accounts)
            self._supervision(accounts)
            self._earlier_year(accounts)
        self._print(accounts, seeded)

    def _user(self, username: str, *, role: Role, full_name: str, unit: Unit | None = None,
              is_staff: bool = False) -> tuple[User, bool]:  # fmt: skip
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "full_name": full_name,
                "email": f"{username}@liwan.example",
                "unit": unit,
                "is_staff": is_staff,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(role_group(role))
        return user, created

    def _accounts(self, units: list[Unit]) -> dict[str, User]:
        accounts: dict[str, User] = {}
        accounts["pingjia"], _ = self._user(
            "pingjia", role=Role.EVALUATION_STAFF, full_name="区财政局评价办 王珊", is_staff=True
        )
        # A second reviewer: closing an item takes two people (初审 and 复核).
        accounts["fuhe"], _ = self._user(
            "fuhe", role=Role.EVALUATION_STAFF, full_name="区财政局评价办 陈立", is_staff=True
        )
        accounts["jiandu"], _ = self._user(
            "jiandu", role=Role.OVERSIGHT, full_name="区纪委监委 赵明"
        )
        for index, unit in enumerate(units, start=1):
            if not unit.short_name:
                unit.short_name = SHORT_NAMES[unit.name]
                unit.email = f"unit{index:02d}@liwan.example"
                unit.save(update_fields=["short_name", "email"])
            accounts[f"unit{index:02d}.staff"], _ = self._user(
                f"unit{index:02d}.staff",
                role=Role.UNIT_STAFF,
                full_name=STAFF_NAMES[(index - 1) % len(STAFF_NAMES)],
                unit=unit,
            )
            accounts[f"unit{index:02d}.head"], _ = self._user(
                f"unit{index:02d}.head",
                role=Role.UNIT_HEAD,
                full_name=HEAD_NAMES[(index - 1) % len(HEAD_NAMES)],
                unit=unit,
            )
        return accounts

    def _ledger(self, accounts: dict[str, User]) -> int:
        touched = set(
            Event.objects.exclude(action=EventAction.CREATED).values_list("item_id", flat=True)
        )
        items = (
            RectificationItem.objects.filter(
                recommendation__finding__result__round__year=2020, unit__name__in=SHORT_NAMES
            )
            .select_related("unit", "recommendation__finding")
            .order_by("recommendation__finding__result__seq", "recommendation__finding__number")
        )
        today = clock.today()
        seeded = 0
        for index, item in enumerate(items):
            if item.pk in touched or item.status != ItemStatus.OPEN:
                continue
            _play(SCENARIOS[index % len(SCENARIOS)], item, accounts, today)
            seeded += 1
        return seeded

    def _budget(self, accounts: dict[str, User]) -> None:
        """One project whose budget advice staff changed, so the sheet shows an override and
        its history. Once: a later run finds the decision and leaves it."""
        result = EvaluationResult.objects.filter(round__year=2020, seq=3).first()
        if result is None or BudgetDecision.objects.filter(result=result).exists():
            return
        decide_budget_advice(
            result=result,
            actor=services.Actor(user=accounts["pingjia"]),
            advice=BudgetAdvice.SUPPORT,
            reason="区委区政府年度重点保障项目；已提交整改方案，整改措施明确，预算予以保障，"
            "整改情况纳入下年度评价。",
            seen_decision=0,
            today=clock.today(),
        )

    def _earlier_year(self, accounts: dict[str, User]) -> None:
        """The made-up 2019 table, when it is imported (``make demo`` does): its items worked
        and closed long ago, and the first problem 2020 found again confirmed as a repeat, so
        the ledger, the item page and the dashboard show one; the other candidate waits on
        屡审屡犯 for a newcomer to rule on. Once: a later run finds the ruling and stops."""
        # Items someone already worked on are left as they are, as in the 2020 ledger.
        earlier = list(
            RectificationItem.objects.filter(
                round_year=2019, unit__name__in=SHORT_NAMES, status=ItemStatus.OPEN
            )
            .exclude(events__in=Event.objects.exclude(action=EventAction.CREATED))
            .select_related("unit", "recommendation__finding")
            .in_ledger_order()
        )
        if RepeatLink.objects.filter(earlier__round_year=2019).exists():
            return
        today = clock.today()
        for item in earlier:
            _play(EARLIER_YEAR, item, accounts, today)
        candidates = repeat_candidates(year=2020)
        if candidates and candidates[0].earlier.round_year == 2019:
            services.decide_repeat(
                item=candidates[0].item,
                earlier=candidates[0].earlier,
                actor=_actor(accounts["pingjia"]),
                confirm=True,
            )

    def _supervision(self, accounts: dict[str, User]) -> None:
        """The escalation ladder on the first overdue item: an interview of the unit head and a
        leader's instruction. Once: a later run finds them and leaves them."""
        today = clock.today()
        item = (
            RectificationItem.objects.filter(round_year=2020)
            .overdue(today)
            .order_by("deadline", "id")
            .first()
        )
        if item is None or SupervisionRecord.objects.filter(item=item).exists():
            return
        actor = services.Actor(user=accounts["pingjia"])
        services.record_supervision(
            item=item,
            actor=actor,
            kind=SupervisionKind.INTERVIEW,
            happened_on=today - datetime.timedelta(days=2),
            person="区财政局 分管副局长",
            text="约谈单位分管负责人，要求两周内完成整改并提交销号申请。",
        )
        item.refresh_from_db()
        services.record_supervision(
            item=item,
            actor=actor,
            kind=SupervisionKind.INSTRUCTION,
            happened_on=today - datetime.timedelta(days=1),
            person="区政府 分管副区长",
            document="荔府办批〔2026〕12号",
            text="请区财政局跟踪督办，确保年底前整改到位，并将结果报区政府。",
        )

    def _print(self, accounts: dict[str, User], seeded: int) -> None:
        self.stdout.write(self.style.SUCCESS(f"演示数据已就绪（本次新增演示进度 {seeded} 项）。"))
        self.stdout.write(f"演示账号的密码均为：{DEMO_PASSWORD}")
        for username, user in accounts.items():
            unit = f"（{user.unit}）" if user.unit_id else ""
            role = "、".join(user.groups.values_list("name", flat=True))
            self.stdout.write(f"  {username:<14} {role}{unit} {user.full_name}")
