"""The back-office list of reminders for evaluation staff: what was sent to whom, what failed
and why, and a "resend" for failed ones. Rows are written by the sweep only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from reminders import services, tasks
from reminders.models import Reminder


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "item_link",
        "recipient",
        "email",
        "role",
        "rule",
        "period",
        "status",
        "attempts",
        "sent_at",
        "outcome",
    )
    list_filter = ("status", "rule", "role", "item__unit")
    list_select_related = ("item", "recipient")
    search_fields = (
        "=item__id",
        "email",
        "recipient__username",
        "recipient__full_name",
        "item__unit__name",
        "last_error",
    )
    date_hierarchy = "created_at"
    actions = ["resend"]
    readonly_fields = (
        "item",
        "recipient",
        "email",
        "role",
        "rule",
        "period",
        "deadline",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "last_error",
        "skip_reason",
        "created_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # planned by the sweep only

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # the record of who was reminded stays

    @admin.display(description="整改事项", ordering="item_id")
    def item_link(self, obj: Reminder) -> str:
        url = reverse("admin:rectification_rectificationitem_change", args=[obj.item_id])
        return format_html('<a href="{}">#{}</a>', url, obj.item_id)

    @admin.display(description="说明")
    def outcome(self, obj: Reminder) -> str:
        if obj.skip_reason:
            return obj.get_skip_reason_display()
        return obj.last_error[:120]

    @admin.action(description="重新发送", permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> None:
        count = services.requeue_failed(ids=list(queryset.values_list("pk", flat=True)))
        if count:
            transaction.on_commit(tasks.request_sweep)
            self.message_user(
                request,
                f"已将 {count} 条发送失败的提醒重新排队，将在几分钟内发送"
                "（同一收件人每天至多一封，今天已收到邮件的将于明天发送）。",
                messages.SUCCESS,
            )
        else:
            self.message_user(request, "所选提醒中没有发送失败的记录。", messages.WARNING)
