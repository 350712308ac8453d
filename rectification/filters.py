"""The ledger's filters and sorting (django-filter): the parameters of the ledger list, and
with them of "export what I see", bulk selection, the export command and the dashboard's
drill-down links. Used only through ``rectification.selectors.ledger``, which scopes and filters
once; widget styling is the templates' business (``{% form_widget %}``)."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable, Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.forms.utils import flatatt
from django.http import QueryDict
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import sees_all_units
from calendars.models import CalendarYear
from calendars.services import provisional_changes
from evaluations.models import EvaluationRound, FindingCategory, Project, Unit
from liwan.params import id_param
from rectification.choices import (
    ClosureOutcome,
    ExtensionStatus,
    FollowUpStatus,
    ItemStatus,
    MilestoneStatus,
    PlanStatus,
    RectificationType,
    WarningLevel,
)
from rectification.models import (
    ExtensionRequest,
    FollowUp,
    Milestone,
    RectificationItem,
    RectificationPlan,
)
from rectification.querysets import LEDGER_ORDER, repeat_links, unassigned_q, warning_q


class LongSelect(forms.Select):
    """A drop-down whose options are written in Python rather than one template each.

    Django renders every <option> through a template (about 0.3 ms apiece); the unit list of a
    city has hundreds, which made the ledger's filter form the slowest part of the page. Every
    drop-down of the filter uses it (``LedgerFilter.__init__``): a dozen short ones through
    templates still cost ≈ 7 ms a page.
    """

    def use_required_attribute(self, initial: Any) -> bool:
        # A filter is never required. Select's own answer reads the first option, which for
        # the lists drawn on demand (``_offered``) would run their query a second time.
        return False

    def render(self, name, value, attrs=None, renderer=None):  # type: ignore[no-untyped-def]
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs["name"] = name
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        selected = {str(v) for v in self.format_value(value)}
        options = []
        for key, label in self.choices:
            mark = " selected" if str(key) in selected else ""
            options.append(f'<option value="{escape(key)}"{mark}>{escape(label)}</option>')
        # Every value and label is escaped just above.
        body = mark_safe("".join(options))  # noqa: S308 # nosec B308 B703
        return format_html("<select{}>{}</select>", flatatt(final_attrs), body)


class LongSelectMultiple(LongSelect, forms.SelectMultiple):
    """``LongSelect`` for a list of several choices (the units of a publication, say)."""


class LedgerOrdering(django_filters.OrderingFilter):
    # django-filter ships zh_CN but not zh_Hans; this one phrase is ours to translate.
    descending_fmt = _("%s (descending)")

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        qs = super().filter(qs, value)
        if value:
            # A chosen column (status, unit…) has ties; the ledger order breaks them, so the
            # pages of a sorted list neither repeat nor skip an item.
            qs = qs.order_by(*qs.query.order_by, *LEDGER_ORDER)
        return qs


class YearFilter(django_filters.Filter):
    """A year: any plausible one is valid (a year without a round lists nothing); the drop-down
    offers the years that have a round."""

    field_class = forms.IntegerField


def _offered(
    field: forms.ChoiceField, rows: Callable[[], Iterable[tuple[Any, str]]]
) -> Callable[[], list[tuple[Any, str]]]:
    """A model drop-down's options from plain ``(pk, label)`` rows, with its empty and "none"
    entries as django-filter would list them. A callable, which a widget calls when it is
    drawn: the worklist filters seven lists without drawing a form, and queries no options."""
    head = [("", field.empty_label)] if field.empty_label is not None else []
    if getattr(field, "null_label", None) is not None:
        head.append((field.null_value, field.null_label))
    return lambda: head + list(rows())


class LedgerFilter(django_filters.FilterSet):
    year = YearFilter(
        label=_("Year"),
        field_name="round_year",
        min_value=2000,
        max_value=2100,
        widget=LongSelect,
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("Unit"), queryset=Unit.objects.all(), empty_label=_("All units"), widget=LongSelect
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=ItemStatus.choices, empty_label=_("All statuses")
    )
    # "Not closed" spans three statuses; the dashboard's "due soon" list links here with it.
    closed = django_filters.ChoiceFilter(
        label=_("Closed or not"),
        choices=[("yes", _("Closed")), ("no", _("Not closed"))],
        method="filter_closed",
        empty_label=_("All"),
    )
    overdue = django_filters.ChoiceFilter(
        label=_("Overdue"),
        choices=[("yes", _("Overdue")), ("no", _("Not overdue"))],
        method="filter_overdue",
        empty_label=_("All"),
    )
    warning = django_filters.ChoiceFilter(
        label=_("Warning colour"),
        choices=WarningLevel.choices,
        method="filter_warning",
        empty_label=_("All"),
    )
    deadline = django_filters.DateFromToRangeFilter(
        label=_("Deadline between"),
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"), queryset=User.objects.none(), empty_label=_("Anyone"), widget=LongSelect
    )
    project = django_filters.ModelChoiceFilter(
        label=_("Project"),
        field_name="recommendation__finding__result__project",
        queryset=Project.objects.none(),
        empty_label=_("All projects"),
        widget=LongSelect,
    )
    # Problem categories (问题类别) of the finding an item answers; "untagged" finds the
    # findings nobody has categorised yet. A finding has each category at most once, so the
    # join never repeats an item.
    category = django_filters.ModelChoiceFilter(
        label=_("Problem category"),
        field_name="recommendation__finding__categories",
        queryset=FindingCategory.objects.all(),
        empty_label=_("All categories"),
        null_label=_("Not categorised"),
    )
    q = django_filters.CharFilter(label=_("Keyword"), method="filter_keyword")
    # What waits for someone (the worklists link here with these).
    returned = django_filters.ChoiceFilter(
        label=_("Returned"),
        choices=[("yes", _("Returned to the unit"))],
        method="filter_returned",
        empty_label=_("All"),
    )
    repeat = django_filters.ChoiceFilter(
        label=_("Repeat problem"),
        choices=[("yes", _("Repeats an earlier round's problem"))],
        method="filter_repeat",
        empty_label=_("All"),
    )
    waiting = django_filters.ChoiceFilter(
        label=_("Waiting for"),
        choices=[
            ("rectifying", _("The unit (not yet submitted)")),
            ("plan", _("Plan to write or revise")),
            ("measures", _("Measures not written")),
            ("milestone", _("Milestone due within 14 days or overdue")),
            ("assignment", _("Owner or deadline not set")),
            ("extension", _("Extension request to decide")),
            ("plan_review", _("Plan to accept")),
            ("milestone_review", _("Milestone to accept")),
            ("second_review", _("Second review by me")),
            ("follow_up", _("Follow-up check due")),
        ],
        method="filter_waiting",
        empty_label=_("Anything"),
    )
    rectification_type = django_filters.ChoiceFilter(
        label=_("Rectification type"),
        choices=RectificationType.choices,
        empty_label=_("All types"),
        null_label=_("Not yet decided"),
        null_value="none",
        method="filter_type",
    )
    outcome = django_filters.ChoiceFilter(
        label=_("Closure outcome"),
        field_name="closure_outcome",
        choices=ClosureOutcome.choices,
        empty_label=_("All outcomes"),
    )
    relapse = django_filters.ChoiceFilter(
        label=_("Relapse"),
        choices=[("yes", _("Reopened after a follow-up check"))],
        method="filter_relapse",
        empty_label=_("All"),
    )
    # The deadlines counted over a provisional year's days that its notice changed.
    recheck = YearFilter(
        label=_("Deadlines to re-check for the calendar of"),
        min_value=2000,
        max_value=2100,
        method="filter_recheck",
    )
    sort = LedgerOrdering(
        label=_("Sort by"),
        empty_label=_("Ledger order (year, then as in the table)"),
        fields=(
            ("round_year", "year"),
            ("unit__name", "unit"),
            ("recommendation__finding__result__project__name", "project"),
            ("deadline", "deadline"),
            ("status", "status"),
            ("updated_at", "updated"),
            ("submitted_at", "submitted"),
        ),
        # django-filter keys these labels by model field path, not by parameter name.
        field_labels={
            "round_year": _("Year"),
            "unit__name": _("Unit"),
            "recommendation__finding__result__project__name": _("Project"),
            "deadline": _("Deadline"),
            "status": _("Status"),
            "updated_at": _("Last change"),
            "submitted_at": _("Submitted"),
        },
    )

    class Meta:
        model = RectificationItem
        fields: tuple[str, ...] = ()  # the filters above are the whole set

    def __init__(
        self,
        data: QueryDict | dict[str, Any] | None = None,
        *,
        user: User | None,
        today: datetime.date,
        queryset: QuerySet | None = None,
    ) -> None:
        """``user`` decides which unit, project and owner lists are offered (``None``: the
        whole ledger, for a command run on the server); ``today`` is the day "overdue" is
        judged on, read once per request by the caller."""
        super().__init__(data, queryset=queryset)
        self.user = user
        self.today = today
        for one in self.filters.values():
            if isinstance(one, django_filters.ChoiceFilter | django_filters.ModelChoiceFilter):
                one.extra.setdefault("widget", LongSelect)
        years = EvaluationRound.objects.order_by("-year").values_list("year", flat=True)
        self.filters["year"].extra["widget"] = LongSelect(
            choices=lambda: [("", _("All years"))] + [(y, str(y)) for y in years]
        )
        self.sees_all_units = user is None or sees_all_units(user)
        if self.sees_all_units:
            self.filters["owner"].queryset = User.objects.filter(unit__isnull=False).order_by(
                "unit__name", "full_name"
            )
            self.filters["project"].queryset = Project.objects.all()
        else:
            # A unit user filters within their own unit; the unit filter is not offered.
            del self.filters["unit"]
            self.filters["owner"].queryset = User.objects.filter(unit_id=user.unit_id).order_by(
                "full_name"
            )
            self.filters["project"].queryset = Project.objects.filter(unit_id=user.unit_id)

    def rebound(self, data: QueryDict | dict[str, Any] | None) -> LedgerFilter:
        """This filter set for other parameters (the worklist's sections): the same filters,
        fields and option lists, so that each section does not copy them again (≈ 1.4 ms of
        the ≈ 2 ms a filter set costs). The filters' methods read only the viewer and the
        day, which stay the same."""
        other = copy.copy(self)
        other.is_bound = data is not None
        other.data = data or QueryDict()
        for cached in ("_form", "_qs", "_lists_bounded"):
            other.__dict__.pop(cached, None)
        return other

    @property
    def form(self):  # type: ignore[no-untyped-def]
        form = super().form
        if not getattr(self, "_lists_bounded", False):
            self._lists_bounded = True
            # The drop-downs of whole tables read plain values: a model instance per option
            # (500 units) cost more than the page's rows.
            categories = FindingCategory.objects.order_by("order", "name")
            category = form.fields["category"]
            category.widget.choices = _offered(
                category, lambda: categories.values_list("pk", "name")
            )
            if self.sees_all_units:
                self._bound_long_lists(form)
        return form

    def _bound_long_lists(self, form) -> None:  # type: ignore[no-untyped-def]
        """Staff see every unit: a city has thousands of projects and staff members, too many
        for a drop-down (and slow to render). Those lists offer the chosen unit's entries;
        without a unit, only the current choice. Any id is still accepted (the dashboard links
        to a project without its unit), since validation uses the full queryset."""
        units = Unit.objects.order_by("name").values_list("pk", "short_name", "name")
        form.fields["unit"].widget.choices = _offered(
            form.fields["unit"], lambda: ((pk, short or name) for pk, short, name in units)
        )
        unit_id = id_param(self.data.get("unit"))
        for name, unit_field in (("project", "unit_id"), ("owner", "unit_id")):
            field = form.fields[name]
            chosen = id_param(self.data.get(name))
            scope = Q(pk=chosen) if chosen is not None else Q(pk__in=[])
            if unit_id is not None:
                scope |= Q(**{unit_field: unit_id})
            else:
                field.help_text = _("Choose a unit first to list its entries.")
            options = field.queryset.filter(scope)
            field.widget.choices = _offered(
                field,
                lambda field=field, options=options: (
                    (obj.pk, field.label_from_instance(obj)) for obj in options
                ),
            )

    def filter_closed(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "yes":
            return queryset.filter(status=ItemStatus.CLOSED)
        if value == "no":
            return queryset.exclude(status=ItemStatus.CLOSED)
        return queryset

    def filter_overdue(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "yes":
            return queryset.overdue(self.today)
        if value == "no":
            return queryset.not_overdue(self.today)
        return queryset

    def filter_warning(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(warning_q(value, self.today)) if value else queryset

    def filter_returned(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(returned_at__isnull=False) if value == "yes" else queryset

    def filter_repeat(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Exists(repeat_links())) if value == "yes" else queryset

    def filter_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(rectification_type="" if value == "none" else value)

    def filter_relapse(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(relapsed_at__isnull=False) if value == "yes" else queryset

    def filter_waiting(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """What waits, and for whom: each choice is a worklist section (``worklists``)."""
        open_items = queryset.exclude(status=ItemStatus.CLOSED)
        plans = RectificationPlan.objects.filter(item=OuterRef("pk"))
        if value == "plan":
            # No plan accepted and none waiting for acceptance: the unit has to write one.
            return open_items.exclude(
                Exists(plans.filter(status__in=[PlanStatus.SUBMITTED, PlanStatus.ACCEPTED]))
            )
        if value == "plan_review":
            return queryset.filter(Exists(plans.filter(status=PlanStatus.SUBMITTED)))
        if value == "milestone":
            soon = self.today + datetime.timedelta(days=14)
            due = Milestone.objects.filter(
                item=OuterRef("pk"), status=MilestoneStatus.OPEN, deadline__lte=soon
            )
            return open_items.filter(Exists(due))
        if value == "milestone_review":
            reported = Milestone.objects.filter(
                item=OuterRef("pk"), status=MilestoneStatus.SUBMITTED
            )
            return queryset.filter(Exists(reported))
        if value == "second_review":
            waiting = queryset.filter(status=ItemStatus.SECOND_REVIEW)
            # Four eyes: the second review is for anyone but the first reviewer.
            return waiting.exclude(first_reviewer=self.user) if self.user else waiting
        if value == "follow_up":
            due = FollowUp.objects.filter(
                item=OuterRef("pk"), status=FollowUpStatus.SCHEDULED, due_on__lte=self.today
            )
            return queryset.filter(Exists(due))
        if value == "rectifying":
            return queryset.filter(
                status__in=[ItemStatus.OPEN, ItemStatus.IN_PROGRESS, ItemStatus.HEAD_REVIEW]
            )
        if value == "measures":
            return open_items.filter(measures="")
        if value == "assignment":
            return queryset.filter(unassigned_q())
        if value == "extension":
            pending = ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING)
            return queryset.filter(pk__in=pending.values("item_id"))
        return queryset

    def filter_recheck(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        """Open items whose deadline was counted in working days over ``value``'s provisional
        calendar across a date its notice changed: each is one working day off per date."""
        if not CalendarYear.objects.filter(year=value).exists():
            return queryset.none()
        dates = provisional_changes(year=value).dates
        if not dates:
            return queryset.none()
        across = Q()
        for date in dates:
            across |= Q(deadline_counted_from__lt=date, deadline__gte=date)
        return (
            queryset.exclude(status=ItemStatus.CLOSED)
            .filter(deadline_provisional=True)
            .filter(across)
        )

    def filter_keyword(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Every word (up to five) in the item's project, problem, recommendation or measures.

        One text column and the measures, both trigram-indexed on PostgreSQL, rather than
        five columns of four joined tables (``sync_from_evaluation``)."""
        for word in value.split()[:5]:
            queryset = queryset.filter(Q(search_text__icontains=word) | Q(measures__icontains=word))
        return queryset
