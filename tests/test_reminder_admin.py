"""The back-office list of reminders: evaluation staff see all with their status, filter them,
and resend failed ones; nobody edits or deletes them; unit users never get in."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from liwan import clock
from reminders.choices import RecipientRole, ReminderStatus, Rule
from reminders.models import Reminder
from tests import factories

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:reminders_reminder_changelist"


@pytest.fixture
def staff(client):
    user = factories.StaffUserFactory()  # evaluation staff, not a superuser
    client.force_login(user)
    return user


def make_reminder(status=ReminderStatus.SENT, **fields) -> Reminder:
    recipient = factories.UnitStaffFactory()
    item = factories.ItemFactory(
        recommendation__finding__result__project__unit=recipient.unit,
        owner=recipient,
        deadline=clock.today(),
    )
    return Reminder.objects.create(
        item=item,
        recipient=recipient,
        email=recipient.email,
        role=RecipientRole.TO,
        rule=Rule.DUE_TODAY,
        period=clock.today(),
        deadline=clock.today(),
        status=status,
        next_attempt_at=clock.now(),
        **fields,
    )


def test_staff_see_every_reminder_with_its_status_in_constant_queries(client, staff):
    make_reminder(status=ReminderStatus.FAILED, last_error="SMTPRecipientsRefused: 550")
    url = reverse(CHANGELIST)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "发送失败" in page
    assert "SMTPRecipientsRefused: 550" in page

    for _ in range(29):
        make_reminder()
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.context["cl"].result_count == 30
    assert len(many) == len(few)


def test_staff_filter_by_status_and_rule(client, staff):
    failed = make_reminder(status=ReminderStatus.FAILED, last_error="boom")
    make_reminder()
    response = client.get(reverse(CHANGELIST), {"status": "failed", "rule": "due_today"})
    assert [r.pk for r in response.context["cl"].result_list] == [failed.pk]


def test_staff_resend_a_failed_reminder(client, staff, django_capture_on_commit_callbacks):
    failed = make_reminder(status=ReminderStatus.FAILED, attempts=6, last_error="451")
    sent = make_reminder()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(CHANGELIST),
            {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    assert "已将 1 条发送失败的提醒重新排队" in response.content.decode()
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == ReminderStatus.SENT, "the sweep ran after the commit and sent it"
    assert sent.status == ReminderStatus.SENT
    assert [m.to for m in mail.outbox] == [[failed.email]]


def test_resend_asks_for_a_sweep_only_after_commit(
    client, staff, django_capture_on_commit_callbacks
):
    failed = make_reminder(status=ReminderStatus.FAILED, attempts=6, last_error="550")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse(CHANGELIST), {"action": "resend", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == ReminderStatus.PENDING
    assert mail.outbox == [], "nothing is sent before the commit"
    for callback in callbacks:
        callback()  # the commit: the (eager) sweep task runs
    failed.refresh_from_db()
    assert failed.status == ReminderStatus.SENT
    assert len(mail.outbox) == 1


def test_the_change_page_is_read_only_and_nothing_can_be_added_or_deleted(client, staff):
    reminder = make_reminder()
    url = reverse("admin:reminders_reminder_change", args=[reminder.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="status"' not in response.content.decode()
    assert client.get(reverse("admin:reminders_reminder_add")).status_code == 403
    delete_url = reverse("admin:reminders_reminder_delete", args=[reminder.pk])
    assert client.get(delete_url).status_code == 403


def test_unit_users_and_oversight_readers_cannot_open_it(client):
    for user in (factories.UnitHeadFactory(), factories.OversightFactory()):
        client.force_login(user)
        response = client.get(reverse(CHANGELIST))
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]


def test_the_list_links_to_the_item(client, staff):
    reminder = make_reminder()
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert reverse("admin:rectification_rectificationitem_change", args=[reminder.item_id]) in page
