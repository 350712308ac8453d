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
from evaluations.models import Unit
from liwan import clock
from rectification import services
from rectification.choices import ClosureOutcome, EventAction, ItemStatus, VerificationMethod
from rectification.models import Event, RectificationItem
from rectification.uploads import check_evidence

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
class Scenario:
    """Where a demo item stands: days to its deadline and how far the workflow went, with the
    day each step happened (days before today), so the history reads like a real one."""

    key: str
    days: int  # the deadline, in days from today
    stage: str  # open | progress | submitted | returned | closed | extension
    owner: bool = True
    assigned: int = 30  # days ago: when staff set owner and deadline
    worked: int = 20  # measures and a progress report
    submitted: int = 10
    decided: int = 5  # returned or closed


SCENARIOS = [
    Scenario("upcoming", 30, "open", owner=False, assigned=2),
    Scenario("in-progress", 12, "progress", worked=10),
    Scenario("due-in-3-days", 3, "progress", worked=15),
    Scenario("due-today", 0, "open"),
    Scenario("overdue", -5, "open", assigned=40),
    Scenario("long-overdue", -20, "progress", assigned=60, worked=45),
    Scenario("submitted", 8, "submitted", submitted=2),
    Scenario("closed", -10, "closed", assigned=60, worked=40, submitted=15, decided=12),
    Scenario("returned", 15, "returned", submitted=10, decided=7),
    Scenario("extension", 6, "extension", worked=12),
    Scenario("not-started", 45, "open", assigned=3),
]


def _days_ago(days: int):  # type: ignore[no-untyped-def]
    """Run a demo step as if it were ``days`` days ago, during office hours."""
    moment = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    return clock.running_at(moment - datetime.timedelta(days=days))


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
        staff = services.Actor(user=accounts["pingjia"], ip="127.0.0.1")
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
        # The demo staff account of each unit does the unit's work (not any other 经办人 that
        # may have been added to the unit since).
        unit_staff = {
            user.unit_id: user for key, user in accounts.items() if key.endswith(".staff")
        }
        today = clock.today()
        seeded = 0
        for index, item in enumerate(items):
            if item.pk in touched or item.status != ItemStatus.OPEN:
                continue
            scenario = SCENARIOS[index % len(SCENARIOS)]
            worker = unit_staff[item.unit_id]
            unit_actor = services.Actor(user=worker, ip="127.0.0.1")
            deadline = today + datetime.timedelta(days=scenario.days)
            # Each step at its own past moment: deadlines then lay ahead, and the history and
            # reminders read as they would have.
            with _days_ago(scenario.assigned):
                services.assign(
                    item=item,
                    actor=staff,
                    owner=worker if scenario.owner else None,
                    deadline=deadline,
                )
            if scenario.stage != "open":
                with _days_ago(scenario.worked):
                    self._work(item, unit_actor, scenario)
            if scenario.stage in {"submitted", "returned", "closed"}:
                with _days_ago(scenario.submitted):
                    services.submit(
                        item=item, actor=unit_actor, result="已按整改措施完成整改，详见佐证材料。"
                    )
            if scenario.stage == "returned":
                with _days_ago(scenario.decided):
                    services.return_item(
                        item=item,
                        actor=staff,
                        reason="佐证材料不足，请补充整改前后对比资料后重新提交。",
                    )
            if scenario.stage == "closed":
                with _days_ago(scenario.decided):
                    services.close(
                        item=item,
                        actor=staff,
                        outcome=ClosureOutcome.RECTIFIED,
                        method=VerificationMethod.DOCUMENT_REVIEW,
                        verified_by="王珊",
                        verified_on=clock.today(),
                        note="经书面审核，整改措施已落实，佐证材料齐全，同意销号。",
                    )
            if scenario.stage == "extension":
                with _days_ago(1):
                    services.request_extension(
                        item=item,
                        actor=unit_actor,
                        requested_deadline=today + datetime.timedelta(days=36),
                        reason="涉及跨部门协调，需待区政府常务会议审议后实施，申请延期一个月。",
                    )
            seeded += 1
        return seeded

    def _work(self, item: RectificationItem, actor: services.Actor, scenario: Scenario) -> None:
        services.save_measures(
            item=item,
            actor=actor,
            measures=(
                f"针对“{item.recommendation.finding.title}”问题：一是成立整改工作专班，"
                "明确分管领导和责任科室；二是制定整改方案和时间表；三是建立整改台账，逐项对账销号。"
            ),
        )
        upload = SimpleUploadedFile(f"整改工作方案-{item.pk}.pdf", DEMO_PDF, "application/pdf")
        services.add_progress(
            item=item,
            actor=actor,
            note="已召开专题会议部署整改工作，印发整改工作方案，相关科室按方案推进。",
            files=[check_evidence(upload)],
        )

    def _print(self, accounts: dict[str, User], seeded: int) -> None:
        self.stdout.write(self.style.SUCCESS(f"演示数据已就绪（本次新增演示进度 {seeded} 项）。"))
        self.stdout.write(f"演示账号的密码均为：{DEMO_PASSWORD}")
        for username, user in accounts.items():
            unit = f"（{user.unit}）" if user.unit_id else ""
            role = "、".join(user.groups.values_list("name", flat=True))
            self.stdout.write(f"  {username:<14} {role}{unit} {user.full_name}")
