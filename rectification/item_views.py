"""The item page and its actions. Thin: the page shows only the actions ``rules.permitted_actions``
allows (and that have something to act on); each action posts to its own URL, whose view asks
the same rule again and calls one service, so a hidden button is also refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views import View

from liwan import clock
from rectification import forms, services
from rectification.choices import (
    ExtensionStatus,
    FollowUpStatus,
    MilestoneStatus,
    PlanStatus,
    RepeatStatus,
    SupervisionKind,
)
from rectification.history import describe_all
from rectification.models import (
    Event,
    Evidence,
    ExtensionRequest,
    FollowUp,
    Milestone,
    ProgressUpdate,
    RectificationItem,
    RectificationPlan,
    RepeatLink,
    SupervisionRecord,
)
from rectification.rules import Action, permitted_actions
from rectification.selectors import items_visible_to


def _actor(request: HttpRequest) -> services.Actor:
    return services.Actor.from_request(request)


@dataclass
class ItemState:
    """What the item's actions act on besides the item: what waits for a decision, what is
    open. Read once per page."""

    plans: list[RectificationPlan]
    milestones: list[Milestone]
    extensions: list[ExtensionRequest]
    follow_ups: list[FollowUp]
    supervision: list[SupervisionRecord]
    repeats: list[RepeatLink]  # confirmed: the earlier problems this item restates

    @property
    def instructions(self) -> list[SupervisionRecord]:
        """Leaders' instructions (领导批示): shown at the top of the page, to everyone."""
        return [s for s in self.supervision if s.kind == SupervisionKind.INSTRUCTION]

    @property
    def pending_plan(self) -> RectificationPlan | None:
        return next((p for p in self.plans if p.status == PlanStatus.SUBMITTED), None)

    @property
    def accepted_plan(self) -> RectificationPlan | None:
        return next((p for p in self.plans if p.status == PlanStatus.ACCEPTED), None)

    @property
    def pending_extension(self) -> ExtensionRequest | None:
        return next((e for e in self.extensions if e.status == ExtensionStatus.PENDING), None)

    @property
    def scheduled_follow_up(self) -> FollowUp | None:
        return next((f for f in self.follow_ups if f.status == FollowUpStatus.SCHEDULED), None)

    def milestones_in(self, status: str) -> list[Milestone]:
        return [m for m in self.milestones if m.status == status]

    @property
    def milestones_done(self) -> int:
        return len(self.milestones_in(MilestoneStatus.ACCEPTED))


def item_state(item: RectificationItem) -> ItemState:
    return ItemState(
        plans=list(
            RectificationPlan.objects.filter(item=item).select_related("submitted_by", "decided_by")
        ),
        milestones=list(Milestone.objects.filter(item=item).select_related("decided_by")),
        extensions=list(
            ExtensionRequest.objects.filter(item=item).select_related("requested_by", "decided_by")
        ),
        follow_ups=list(
            FollowUp.objects.filter(item=item).select_related("scheduled_by", "checked_by")
        ),
        supervision=list(SupervisionRecord.objects.filter(item=item)),
        repeats=list(
            RepeatLink.objects.filter(item=item, status=RepeatStatus.CONFIRMED).select_related(
                "earlier__recommendation__finding"
            )
        ),
    )


class ItemMixin(LoginRequiredMixin):
    request: HttpRequest
    kwargs: dict[str, Any]

    def get_item(self) -> RectificationItem:
        # Another unit's item is simply not found: 404, never a 403 that confirms it exists.
        return get_object_or_404(
            items_visible_to(self.request.user)
            .with_overdue(clock.today())
            .with_warning(clock.today())
            .with_tentative_deadline()
            .select_related(
                "unit",
                "owner",
                "closed_by",
                "returned_by",
                "first_reviewer",
                "recommendation__finding__result__round",
                "recommendation__finding__result__project",
            ),
            pk=self.kwargs["pk"],
        )


@dataclass(frozen=True)
class ActionUI:
    """How one action appears on the item page: its form, panel title, button, endpoint, and
    whether there is something to act on (a plan to decide, a milestone to report…)."""

    form: type[forms.VersionedForm]
    title: str
    button: str
    css: str
    url_name: str
    applies: Callable[[ItemState], bool] = lambda state: True
    template: str = ""
    multipart: bool = False
    # Offered at any time rather than because the item waits for it: folded until opened.
    folded: bool = False


_ = gettext_lazy
ACTIONS_UI: dict[Action, ActionUI] = {
    Action.HEAD_SIGNOFF: ActionUI(
        forms.HeadSignoffForm, _("Sign off the submission (unit head)"), _("Record decision"),
        "btn-primary", "rectification:item-head-signoff",
    ),
    Action.SECOND_REVIEW: ActionUI(
        forms.SecondReviewForm, _("Second review (复核)"), _("Record decision"),
        "btn-success", "rectification:item-second-review",
    ),
    Action.FIRST_REVIEW: ActionUI(
        forms.FirstReviewForm, _("First review (初审)"), _("Propose this outcome"),
        "btn-primary", "rectification:item-first-review",
    ),
    Action.DECIDE_PLAN: ActionUI(
        forms.DecisionForm, _("Decide on the plan"), _("Record decision"),
        "btn-warning", "rectification:item-plan-decide",
        applies=lambda state: state.pending_plan is not None,
    ),
    Action.DECIDE_MILESTONE: ActionUI(
        forms.MilestoneDecisionForm, _("Decide on a milestone"), _("Record decision"),
        "btn-warning", "rectification:item-milestone-decide",
        applies=lambda state: bool(state.milestones_in(MilestoneStatus.SUBMITTED)),
    ),
    Action.DECIDE_EXTENSION: ActionUI(
        forms.ExtensionDecisionForm, _("Decide the extension request"), _("Record decision"),
        "btn-warning", "rectification:item-extension-decide",
        applies=lambda state: state.pending_extension is not None,
    ),
    Action.ASSIGN: ActionUI(
        forms.AssignForm, _("Owner and deadline"), _("Save"),
        "btn-primary", "rectification:item-assign",
    ),
    Action.PLAN: ActionUI(
        forms.PlanForm, _("Rectification plan"), _("Submit the plan"),
        "btn-primary", "rectification:item-plan",
        applies=lambda state: state.pending_plan is None,
        template="rectification/_plan_form.html",
    ),
    Action.REPORT_MILESTONE: ActionUI(
        forms.MilestoneReportForm, _("Report a milestone done"), _("Report done"),
        "btn-primary", "rectification:item-milestone-report",
        applies=lambda state: bool(state.milestones_in(MilestoneStatus.OPEN)),
        multipart=True,
    ),
    Action.PROGRESS: ActionUI(
        forms.ProgressForm, _("Report progress"), _("Report progress"),
        "btn-primary", "rectification:item-progress", multipart=True,
    ),
    Action.SUBMIT: ActionUI(
        forms.SubmitForm, _("Submit for closure"), _("Submit for closure"),
        "btn-primary", "rectification:item-submit",
    ),
    Action.RETURN: ActionUI(
        forms.ReasonForm, _("Return to the unit"), _("Return"),
        "btn-outline-danger", "rectification:item-return",
    ),
    Action.SCHEDULE_FOLLOW_UP: ActionUI(
        forms.FollowUpScheduleForm, _("Schedule a follow-up check (回头看)"), _("Schedule"),
        "btn-primary", "rectification:item-follow-up-schedule",
        applies=lambda state: state.scheduled_follow_up is None,
    ),
    Action.RECORD_FOLLOW_UP: ActionUI(
        forms.FollowUpRecordForm, _("Record the follow-up check"), _("Record"),
        "btn-primary", "rectification:item-follow-up-record",
        applies=lambda state: state.scheduled_follow_up is not None,
    ),
    Action.REOPEN: ActionUI(
        forms.ReopenForm, _("Reopen"), _("Reopen"),
        "btn-outline-danger", "rectification:item-reopen",
    ),
    Action.RECORD_SUPERVISION: ActionUI(
        forms.SupervisionForm, _("Record a supervision step (督办)"), _("Record"),
        "btn-outline-danger", "rectification:item-supervision", folded=True,
    ),
    Action.REQUEST_EXTENSION: ActionUI(
        forms.ExtensionRequestForm, _("Ask for an extension"), _("Request extension"),
        "btn-primary", "rectification:item-extension-request",
        applies=lambda state: state.pending_extension is None,
    ),
}  # fmt: skip
del _


def _initial(action: Action, request: HttpRequest) -> dict[str, Any]:
    if action == Action.FIRST_REVIEW:
        # Who reviews an item is usually who verified it; the field stays editable.
        return {"verified_by": request.user.display_name[:50]}
    return {}


def item_page(
    request: HttpRequest,
    item: RectificationItem,
    *,
    bound: tuple[Action, forms.VersionedForm] | None = None,
    status: int = 200,
) -> TemplateResponse:
    """Render the item page; ``bound`` re-shows one action's form with its errors."""
    allowed = permitted_actions(item=item, user=request.user)
    state = item_state(item)
    panels = []
    for action, ui in ACTIONS_UI.items():
        refused_here = bool(bound) and bound[0] == action
        # The action just refused is shown again with its errors even if, by now, there is
        # nothing left for it to act on (a colleague's plan arrived first).
        if action not in allowed or not (ui.applies(state) or refused_here):
            continue
        if bound and bound[0] == action:
            form = bound[1]
        else:
            form = ui.form(item=item, initial=_initial(action, request))
        panels.append(
            {
                "key": action.value,
                "ui": ui,
                "form": form,
                "url": reverse(ui.url_name, kwargs={"pk": item.pk}),
                "multipart": ui.multipart,
            }
        )
    progress = (
        ProgressUpdate.objects.filter(item=item)
        .select_related("author", "milestone")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("id")))
    )
    context = {
        "item": item,
        "finding": item.recommendation.finding,
        "categories": list(item.recommendation.finding.categories.all()),
        "result": item.recommendation.finding.result,
        "progress_list": progress,
        "history": describe_all(Event.objects.filter(item=item).select_related("actor")),
        "state": state,
        "extensions": state.extensions,
        "action_panels": panels,
        "today": clock.today(),
    }
    return TemplateResponse(request, "rectification/item_detail.html", context, status=status)


class ItemDetailView(ItemMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return item_page(request, self.get_item())


class ItemActionView(ItemMixin, View):
    """POST one action: validate the form, call the service, report back.

    Subclasses set ``action``, ``success_message`` and implement ``perform``.
    """

    action: Action
    success_message = ""
    form: forms.VersionedForm

    def get_form(self, item: RectificationItem) -> forms.VersionedForm:
        return ACTIONS_UI[self.action].form(self.request.POST, self.request.FILES, item=item)

    def perform(self, item: RectificationItem, actor: services.Actor, data: dict) -> None:
        raise NotImplementedError

    def get(self, request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        # An action URL is only posted to; arriving here by GET (a login redirect after the
        # session expired, a refresh, the language switch) should land on the item page.
        return redirect("rectification:item-detail", pk=pk)

    def post(self, request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        item = self.get_item()
        if self.action not in permitted_actions(item=item, user=request.user):
            raise PermissionDenied
        form = self.form = self.get_form(item)
        status = 400
        if form.is_valid():
            try:
                self.perform(item, _actor(request), form.cleaned_data)
            except services.StaleItemError as exc:
                # Keep what the user typed: the form is shown again with the newer item above
                # it, and saving it again (now with the current version) is a conscious choice.
                form.add_error(None, exc)
                form = self.refreshed_form(item, form)
                status = 409
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, self.success_message)
                return redirect(item_url(item))
        return item_page(request, item, bound=(self.action, form), status=status)

    def refreshed_form(
        self, item: RectificationItem, stale: forms.VersionedForm
    ) -> forms.VersionedForm:
        data = stale.data.copy()
        data["version"] = str(item.version)
        fresh = type(stale)(data, self.request.FILES, item=item)
        fresh.is_valid()
        for error in stale.non_field_errors():
            fresh.add_error(None, error)
        return fresh


def item_url(item: RectificationItem) -> str:
    return reverse("rectification:item-detail", kwargs={"pk": item.pk})


class AssignView(ItemActionView):
    action = Action.ASSIGN
    success_message = gettext_lazy("Owner and deadline saved.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.assign(
            item=item,
            actor=actor,
            owner=data["owner"],
            deadline=data["deadline"],
            reason=data["reason"],
            count=getattr(self.form, "working_day_count", None),
            expected_version=data["version"],
        )


class PlanView(ItemActionView):
    action = Action.PLAN
    success_message = gettext_lazy("Plan submitted. The evaluation staff will accept or return it.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.submit_plan(
            item=item,
            actor=actor,
            rectification_type=data["rectification_type"],
            measures=data["measures"],
            agreement=data["agreement"],
            agreement_reason=data["agreement_reason"],
            roadmap=data["roadmap"],
            milestones=data["milestones"],
            expected_version=data["version"],
        )


class PlanDecisionView(ItemActionView):
    action = Action.DECIDE_PLAN
    success_message = gettext_lazy("Decision recorded.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        plan = get_object_or_404(RectificationPlan, item=item, status=PlanStatus.SUBMITTED)
        services.decide_plan(
            plan=plan,
            actor=actor,
            accept=data["decision"] == "accept",
            note=data["note"],
            expected_version=data["version"],
        )


class ProgressView(ItemActionView):
    action = Action.PROGRESS
    success_message = gettext_lazy("Progress reported.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        # Progress is appended, never overwrites anything: a colleague's change meanwhile is
        # no reason to refuse it.
        services.add_progress(item=item, actor=actor, note=data["note"], files=data["files"])


class MilestoneReportView(ItemActionView):
    action = Action.REPORT_MILESTONE
    success_message = gettext_lazy("Milestone reported done. The evaluation staff will accept it.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.report_milestone(
            milestone=data["milestone"], actor=actor, note=data["note"], files=data["files"]
        )


class MilestoneDecisionView(ItemActionView):
    action = Action.DECIDE_MILESTONE
    success_message = gettext_lazy("Decision recorded.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.decide_milestone(
            milestone=data["milestone"],
            actor=actor,
            accept=data["decision"] == "accept",
            note=data["note"],
        )


class SubmitView(ItemActionView):
    action = Action.SUBMIT
    success_message = gettext_lazy("Submitted for closure.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.submit(
            item=item, actor=actor, result=data["result"], expected_version=data["version"]
        )


class HeadSignoffView(ItemActionView):
    action = Action.HEAD_SIGNOFF
    success_message = gettext_lazy("Decision recorded.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.head_signoff(
            item=item,
            actor=actor,
            confirm=data["decision"] == "accept",
            note=data["note"],
            expected_version=data["version"],
        )


class ReturnView(ItemActionView):
    action = Action.RETURN
    success_message = gettext_lazy("Returned to the unit.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.return_item(
            item=item, actor=actor, reason=data["reason"], expected_version=data["version"]
        )


class FirstReviewView(ItemActionView):
    action = Action.FIRST_REVIEW
    success_message = gettext_lazy("First review recorded; a second reviewer will confirm it.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.first_review(
            item=item,
            actor=actor,
            outcome=data["outcome"],
            method=data["method"],
            verified_by=data["verified_by"],
            verified_on=data["verified_on"],
            note=data["note"],
            expected_version=data["version"],
        )


class SecondReviewView(ItemActionView):
    action = Action.SECOND_REVIEW
    success_message = gettext_lazy("Second review recorded.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.second_review(
            item=item,
            actor=actor,
            confirm=data["decision"] == "confirm",
            note=data["note"],
            consent=bool(data.get("consent")),
            expected_version=data["version"],
        )


class ReopenView(ItemActionView):
    action = Action.REOPEN
    success_message = gettext_lazy("Item reopened.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.reopen(
            item=item,
            actor=actor,
            reason=data["reason"],
            new_deadline=data.get("new_deadline"),
            expected_version=data["version"],
        )


class FollowUpScheduleView(ItemActionView):
    action = Action.SCHEDULE_FOLLOW_UP
    success_message = gettext_lazy("Follow-up check scheduled.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.schedule_follow_up(
            item=item, actor=actor, due_on=data["due_on"], expected_version=data["version"]
        )


class FollowUpRecordView(ItemActionView):
    action = Action.RECORD_FOLLOW_UP
    success_message = gettext_lazy("Follow-up check recorded.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        follow_up = get_object_or_404(FollowUp, item=item, status=FollowUpStatus.SCHEDULED)
        services.record_follow_up(
            follow_up=follow_up,
            actor=actor,
            holds=data["holds"] == "yes",
            finding=data["finding"],
            new_deadline=data.get("new_deadline"),
            expected_version=data["version"],
        )


class ExtensionRequestView(ItemActionView):
    action = Action.REQUEST_EXTENSION
    success_message = gettext_lazy("Extension requested.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.request_extension(
            item=item,
            actor=actor,
            requested_deadline=data["requested_deadline"],
            reason=data["reason"],
        )


class ExtensionDecisionView(ItemActionView):
    action = Action.DECIDE_EXTENSION
    success_message = gettext_lazy("Decision recorded.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        extension = get_object_or_404(ExtensionRequest, item=item, status=ExtensionStatus.PENDING)
        services.decide_extension(
            extension=extension,
            actor=actor,
            approve=data["decision"] == "approve",
            note=data["note"],
            expected_version=data["version"],
        )


class SupervisionView(ItemActionView):
    action = Action.RECORD_SUPERVISION
    success_message = gettext_lazy("Supervision step recorded.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.record_supervision(
            item=item,
            actor=actor,
            kind=data["kind"],
            happened_on=data["happened_on"],
            person=data["person"],
            document=data["document"],
            text=data["text"],
            expected_version=data["version"],
        )
