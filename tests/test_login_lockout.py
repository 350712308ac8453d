"""Password guessing fails: django-axes locks a username *from one address* after five failures
for fifteen minutes, on the portal's and the admin's sign-in alike; a colleague behind the same
office address still signs in; every attempt is recorded; staff can lift a lock."""

from __future__ import annotations

import datetime
import logging

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.urls import reverse

from accounts.lockout import lockout_message
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
LEDGER = reverse("rectification:ledger")
PASSWORD = "correct horse battery"
OFFICE = "10.20.30.40"  # one NAT address for a whole unit's office
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sign_in(client, username: str, password: str, *, ip: str = OFFICE, url: str = LOGIN):  # type: ignore[no-untyped-def]
    client.logout()
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client, username: str, times: int, **kwargs):  # type: ignore[no-untyped-def]
    response = None
    for _ in range(times):
        response = sign_in(client, username, "wrong-password", **kwargs)
    return response


def test_it_locks_a_username_from_one_address_after_five_failures(client, frozen, caplog):
    user = factories.UnitStaffFactory()
    caplog.set_level(logging.WARNING, logger="liwan.security")
    assert fail(client, user.username, 4).status_code == 200  # the form, with its error
    locked = fail(client, user.username, 1)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert lockout_message() in page
    assert "15" in lockout_message()
    assert 'name="username"' in page, "the sign-in form is still there, for later"
    # Even the right password is refused now.
    assert sign_in(client, user.username, PASSWORD).status_code == 429
    assert client.get(LEDGER).status_code == 302
    # Every attempt in the security log, and the lockout itself, with the address.
    logged = [r.security for r in caplog.records if r.name == "liwan.security"]
    assert [e["event"] for e in logged].count("login_failed") == 6
    locked = [e for e in logged if e["event"] == "login_locked_out"]
    assert locked
    assert {(e["username"], e["ip"]) for e in locked} == {(user.username, OFFICE)}


def test_the_lockout_message_is_the_translated_one(client, frozen, settings):
    # The page speaks the interface language (Chinese by default): the message goes through
    # gettext like every other text; the zh-hans catalog holds its translation.
    user = factories.UnitStaffFactory()
    page = fail(client, user.username, 5).content.decode()
    assert 'lang="zh-hans"' in page
    assert lockout_message() in page


def test_a_colleague_behind_the_same_office_address_still_signs_in(client, frozen):
    victim, colleague = factories.UnitStaffFactory(), factories.UnitStaffFactory()
    assert fail(client, victim.username, 5).status_code == 429
    response = sign_in(client, colleague.username, PASSWORD)
    assert response.status_code == 302
    assert client.get(LEDGER).status_code == 200


def test_the_same_user_from_another_address_still_signs_in(client, frozen):
    # Locking the username alone would let anyone lock anyone out from anywhere.
    user = factories.UnitStaffFactory()
    assert fail(client, user.username, 5, ip="198.51.100.7").status_code == 429
    assert sign_in(client, user.username, PASSWORD, ip=OFFICE).status_code == 302


def test_the_lock_lifts_after_fifteen_minutes(client, frozen):
    user = factories.UnitStaffFactory()
    fail(client, user.username, 5)
    frozen.shift(datetime.timedelta(minutes=14))
    assert sign_in(client, user.username, PASSWORD).status_code == 429
    # That refused attempt started the cool-off again: fifteen minutes from now.
    frozen.shift(datetime.timedelta(minutes=15, seconds=1))
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count(client, frozen):
    user = factories.UnitStaffFactory()
    fail(client, user.username, 4)
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    assert fail(client, user.username, 4).status_code == 200
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_the_admin_sign_in_is_protected_by_the_same_lockout(client, frozen):
    staff = factories.StaffUserFactory()
    assert fail(client, staff.username, 4, url=ADMIN_LOGIN).status_code == 200
    locked = fail(client, staff.username, 1, url=ADMIN_LOGIN)
    assert locked.status_code == 429
    assert lockout_message() in locked.content.decode()
    # One counter for both doors: the portal's sign-in is locked too.
    assert sign_in(client, staff.username, PASSWORD).status_code == 429
    assert sign_in(client, staff.username, PASSWORD, url=ADMIN_LOGIN).status_code == 429


def test_unknown_usernames_are_counted_and_locked_the_same_way(client, frozen):
    # Nothing tells an attacker whether the account exists.
    assert fail(client, "no-such-user", 4).status_code == 200
    assert fail(client, "no-such-user", 1).status_code == 429


def test_every_attempt_is_recorded_with_username_address_and_time(client, frozen):
    user = factories.UnitStaffFactory()
    fail(client, user.username, 2)
    frozen.shift(datetime.timedelta(minutes=1))
    sign_in(client, user.username, PASSWORD)
    failures = list(AccessFailureLog.objects.order_by("attempt_time"))
    assert [(f.username, f.ip_address, f.attempt_time) for f in failures] == [
        (user.username, OFFICE, START),
        (user.username, OFFICE, START),
    ]
    success = AccessLog.objects.get()
    assert (success.username, success.ip_address) == (user.username, OFFICE)
    assert success.attempt_time == START + datetime.timedelta(minutes=1)


def test_the_password_is_never_stored_with_a_failed_attempt(client, frozen):
    user = factories.UnitStaffFactory()
    fail(client, user.username, 3)
    stored = " ".join(AccessAttempt.objects.values_list("post_data", flat=True))
    assert "password" in stored, "the field is recorded, masked"
    assert "wrong-password" not in stored


def test_staff_lift_a_lock_in_the_back_office(client, frozen):
    user = factories.UnitStaffFactory()
    fail(client, user.username, 5)
    lock = AccessAttempt.objects.get(username=user.username)
    staff = factories.StaffUserFactory()
    client.force_login(staff)
    page = client.get(reverse("admin:accounts_signinlock_changelist"))
    assert page.status_code == 200
    assert user.username in page.content.decode()
    client.post(
        reverse("admin:accounts_signinlock_changelist"),
        {"action": "unlock", "_selected_action": [lock.pk]},
    )
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_unit_users_cannot_see_or_lift_locks(client, frozen):
    client.force_login(factories.UnitStaffFactory())
    response = client.get(reverse("admin:accounts_signinlock_changelist"))
    assert response.status_code == 302  # to the admin's sign-in: not staff


def test_a_successful_password_reset_lifts_the_lock_the_message_pointed_to(client, frozen, caplog):
    # The lockout page says "use 'Forgot your password?'"; after doing so the account stayed
    # locked for the rest of the 15 minutes.
    import re

    from django.core import mail

    user = factories.UnitStaffFactory(email="locked@liwan.example")
    assert fail(client, user.username, 5).status_code == 429
    assert sign_in(client, user.username, PASSWORD).status_code == 429
    caplog.set_level(logging.INFO, logger="liwan.security")

    client.post(reverse("password_reset"), {"email": "locked@liwan.example"}, REMOTE_ADDR=OFFICE)
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.outbox[0].body).group(0)
    form_page = client.get(link.split("testserver", 1)[1], follow=True, REMOTE_ADDR=OFFICE)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "A-fresh-start-2026", "new_password2": "A-fresh-start-2026"},
        REMOTE_ADDR=OFFICE,
    )
    assert done.status_code == 302

    assert not AccessAttempt.objects.filter(username=user.username).exists()
    assert sign_in(client, user.username, "A-fresh-start-2026").status_code == 302
    assert client.get(LEDGER).status_code == 200
    logged = [r.security for r in caplog.records if r.name == "liwan.security"]
    assert any(
        e["event"] == "login_unlocked" and e.get("reason") == "password_reset" for e in logged
    ), logged


def test_a_reset_link_that_fails_lifts_nothing(client, frozen):
    user = factories.UnitStaffFactory(email="locked@liwan.example")
    fail(client, user.username, 5)
    response = client.post(
        reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "bad-token"}),
        {"new_password1": "A-fresh-start-2026", "new_password2": "A-fresh-start-2026"},
    )
    assert response.status_code == 200  # the "invalid link" page
    assert AccessAttempt.objects.filter(username=user.username).exists()
