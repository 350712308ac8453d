"""factory_boy factories for the whole domain; a test builds only what it asserts on."""

from __future__ import annotations

from decimal import Decimal

import factory

from accounts.models import User
from accounts.roles import Role, role_group
from evaluations.models import (
    EvaluationResult,
    EvaluationRound,
    Finding,
    Grade,
    Project,
    Recommendation,
    Unit,
)
from rectification import tallies
from rectification.models import Evidence, ProgressUpdate, RectificationItem
from rectification.querysets import COPIED_FIELDS


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"广州市荔湾区测试单位{n}")
    short_name = factory.Sequence(lambda n: f"测试单位{n}")
    # Off unless a test is about it: most tests follow a submission straight to the bureau
    # (the model's default, for real units, is on).
    head_signoff = False


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationRound
        django_get_or_create = ("year",)

    year = 2020
    title = factory.LazyAttribute(lambda o: f"{o.year}年度荔湾区财政支出项目绩效重点评价汇总表")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    unit = factory.SubFactory(UnitFactory)
    name = factory.Sequence(lambda n: f"测试项目{n}")


class ResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvaluationResult

    round = factory.SubFactory(RoundFactory)
    project = factory.SubFactory(ProjectFactory)
    seq = factory.Sequence(lambda n: n + 1)
    goal = "通过实施本项目，提升公共服务水平。"
    budget = Decimal("100.00")
    spent = Decimal("95.00")
    completion_rate = Decimal("95.00")
    score = Decimal("85.00")
    grade = Grade.GOOD


class FindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Finding

    result = factory.SubFactory(ResultFactory)
    number = 1
    title = "绩效指标设置不够规范。"
    body = "一是指标设置不全面；二是指标值不合理。"


class RecommendationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recommendation

    finding = factory.SubFactory(FindingFactory)
    title = "提高绩效指标编制水平。"
    body = "一是完善指标体系；二是加强培训。"


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RectificationItem

    recommendation = factory.SubFactory(RecommendationFactory)
    unit = factory.LazyAttribute(lambda o: o.recommendation.finding.result.project.unit)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The copies of the evaluation (ledger order, search text), as the ledger's writer
        # fills them; without an audit event, so tests count only the events they cause.
        item = super()._create(model_class, *args, **kwargs)
        model_class.objects.filter(pk=item.pk).sync_from_evaluation()
        item.refresh_from_db(fields=COPIED_FIELDS)
        tallies.shift(tallies.added([item]))
        return item


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.gov.cn")
    password = factory.django.Password("correct horse battery")

    # The role group to join; each role's factory below sets its own default.
    role = factory.PostGeneration(lambda user, create, extracted, **kw: _join(user, extracted))


def _join(user: User, role: str | None) -> None:
    if role:
        # role_group creates a missing group: transactional tests flush the groups.
        user.groups.add(role_group(Role(role)))


def _role(default: Role) -> factory.PostGeneration:
    return factory.PostGeneration(
        lambda user, create, extracted, **kw: _join(user, extracted or default)
    )


class StaffUserFactory(UserFactory):
    is_staff = True
    role = _role(Role.EVALUATION_STAFF)


class UnitStaffFactory(UserFactory):
    unit = factory.SubFactory(UnitFactory)
    role = _role(Role.UNIT_STAFF)


class UnitHeadFactory(UserFactory):
    unit = factory.SubFactory(UnitFactory)
    role = _role(Role.UNIT_HEAD)


class OversightFactory(UserFactory):
    role = _role(Role.OVERSIGHT)


class ProgressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressUpdate

    item = factory.SubFactory(ItemFactory)
    note = "已召开专题会议研究整改。"


class EvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evidence

    progress = factory.SubFactory(ProgressFactory)
    file = factory.django.FileField(filename="evidence.pdf", data=b"%PDF-1.4\n%%EOF\n")
    original_name = "evidence.pdf"
    size = 15
    content_type = "application/pdf"
    sha256 = "0" * 64


def force_update(items, **fields) -> int:  # type: ignore[no-untyped-def]
    """Set fields of ``items`` (a queryset) past the services, as a test's set-up does, and
    keep the status tallies right as the services would."""
    ids = list(items.values_list("pk", flat=True))
    before = tallies.count_of(RectificationItem.objects.filter(pk__in=ids))
    changed = RectificationItem.objects.filter(pk__in=ids).update(**fields)
    after = tallies.count_of(RectificationItem.objects.filter(pk__in=ids))
    tallies.shift(tallies.difference(after, before))
    return changed
