"""The second factor: evaluation staff and back-office accounts sign in with a password and a
TOTP code (django-otp), enrol on first sign-in when it is required (production's default),
keep ten recovery codes that work once each; the back-office refuses an unverified session;
unit users are never asked; wrong codes are throttled and count towards the lockout."""

from __future__ import annotations

import datetime
import logging
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import twofactor
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
LEDGER = reverse("rectification:ledger")
HOME = reverse("rectification:worklist")  # the first page after signing in
ADMIN = reverse("admin:index")
VERIFY = reverse("two_factor_verify")
SETUP = reverse("two_factor_setup")
OFFICE = "10.20.30.40"
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def required(settings):
    settings.LIWAN_REQUIRE_2FA = True


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def code_of(device: TOTPDevice) -> str:
    """The code an authenticator app shows now (django-otp's own TOTP function)."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def sign_in(client, user):  # type: ignore[no-untyped-def]
    client.logout()
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}, REMOTE_ADDR=OFFICE
    )
    assert response.status_code == 302, "the password is right"
    return response


def enrolled(user) -> tuple[TOTPDevice, list[str]]:  # type: ignore[no-untyped-def]
    device = TOTPDevice.objects.create(user=user, name=twofactor.TOTP_NAME, confirmed=True)
    return device, twofactor.new_recovery_codes(user)


def test_it_enrols_a_staff_member_on_first_sign_in_and_shows_ten_recovery_codes_once(client, clock):
    staff = factories.StaffUserFactory()
    sign_in(client, staff)

    # Every page (the ledger, the back-office) leads to enrolment first.
    assert client.get(LEDGER)["Location"].startswith(SETUP)
    assert client.get(ADMIN)["Location"].startswith(SETUP)
    page = client.get(SETUP)
    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert "otpauth://totp/" in html and 'src="data:image/svg+xml' in html
    secret = re.search(r"<code data-otp-secret>([A-Z2-7 ]+)</code>", html).group(1)
    assert len(secret.replace(" ", "")) == 32
    assert client.get(SETUP).content.decode().count(secret) == 1  # a reload keeps the key

    wrong = client.post(SETUP, {"code": "000000"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["code"]
    clock.shift(2)  # past the one-second throttle of the first wrong code
    done = client.post(SETUP, {"code": code_of(device), "next": LEDGER})

    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in done.content.decode() for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    assert sorted(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True)) == sorted(codes)  # fmt: skip
    assert client.get(LEDGER).status_code == 200
    assert client.get(ADMIN).status_code == 200
    # Shown once: the page does not show them again.
    assert client.get(SETUP).status_code == 302


def test_it_signs_in_with_password_then_a_totp_code(client, clock, caplog):
    staff = factories.StaffUserFactory()
    device, _codes = enrolled(staff)
    caplog.set_level(logging.INFO, logger="liwan.security")
    sign_in(client, staff)
    assert client.get(LEDGER)["Location"] == f"{VERIFY}?next={LEDGER.replace('/', '%2F')}"
    assert client.get(VERIFY).status_code == 200

    response = client.post(VERIFY, {"code": code_of(device), "next": ADMIN})

    assert response.status_code == 302
    assert response["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200
    assert client.get(LEDGER).status_code == 200
    events = [r.security["event"] for r in caplog.records if r.name == "liwan.security"]
    assert "otp_verified" in events


def test_it_refuses_a_wrong_code_and_the_same_code_twice(client, clock):
    staff = factories.StaffUserFactory()
    device, _codes = enrolled(staff)
    sign_in(client, staff)
    right = code_of(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    refused = client.post(VERIFY, {"code": wrong})

    assert refused.status_code == 200
    assert refused.context["form"].errors["code"] == ["验证码不正确，请重新输入。"]
    assert client.get(ADMIN)["Location"].startswith(VERIFY)
    # Straight after a wrong code the device makes the next try wait (django-otp throttling).
    throttled = client.post(VERIFY, {"code": right})
    assert throttled.context["form"].errors["code"] == ["错误次数过多，请稍候再试。"]
    clock.shift(2)
    assert client.post(VERIFY, {"code": right}).status_code == 302
    # A code is accepted once: replaying it in another session is refused.
    sign_in(client, staff)
    assert client.post(VERIFY, {"code": right}).status_code == 200
    assert client.get(LEDGER)["Location"].startswith(VERIFY)


def test_a_recovery_code_signs_in_once(client, clock):
    staff = factories.StaffUserFactory()
    _device, codes = enrolled(staff)
    sign_in(client, staff)

    used = client.post(VERIFY, {"code": codes[3].upper()}, follow=True)

    assert used.redirect_chain[-1][0] == HOME
    assert [str(m) for m in used.context["messages"]] == ["您使用了一个恢复码登录，还剩 9 个；每个恢复码只能使用一次。"]  # fmt: skip
    assert client.get(ADMIN).status_code == 200
    sign_in(client, staff)
    clock.shift(2)
    again = client.post(VERIFY, {"code": codes[3]})
    assert again.status_code == 200
    assert again.context["form"].errors["code"]
    assert client.get(ADMIN)["Location"].startswith(VERIFY)
    clock.shift(4)
    assert client.post(VERIFY, {"code": codes[4]}).status_code == 302


def test_the_back_office_refuses_a_staff_session_that_has_not_given_its_second_factor(client):
    staff = factories.StaffUserFactory()
    enrolled(staff)
    client.force_login(staff)  # a password sign-in, as far as the session knows
    for url in (ADMIN, reverse("admin:evaluations_evaluationround_changelist"), reverse("admin:evaluations_evaluationround_import")):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(VERIFY), url
    assert client.post(reverse("admin:evaluations_evaluationround_import"), {}).status_code == 302


@pytest.mark.parametrize(
    "make",
    [factories.UnitStaffFactory, factories.UnitHeadFactory, factories.OversightFactory],
    ids=["unit-staff", "unit-head", "oversight"],
)
def test_unit_users_and_readers_are_never_asked(client, make):
    user = make()
    sign_in(client, user)
    assert client.get(LEDGER).status_code == 200
    assert client.get(VERIFY)["Location"] == HOME  # nothing to verify
    assert client.get(SETUP).status_code == 403  # nor anything to set up


def test_with_the_requirement_off_staff_sign_in_with_their_password_alone(client, settings):
    # The embedded default (`make run`): the demo accounts keep working.
    settings.LIWAN_REQUIRE_2FA = False
    staff = factories.StaffUserFactory()
    sign_in(client, staff)
    assert client.get(ADMIN).status_code == 200


def test_five_wrong_codes_lock_the_account_like_five_wrong_passwords(client, clock):
    staff = factories.StaffUserFactory()
    device, _codes = enrolled(staff)
    sign_in(client, staff)
    wrong = f"{(int(code_of(device)) + 1) % 1_000_000:06d}"
    statuses = []
    for attempt in range(5):
        clock.shift(2**attempt + 1)  # wait out the device's own throttle each time
        statuses.append(client.post(VERIFY, {"code": wrong}, REMOTE_ADDR=OFFICE).status_code)
    assert statuses == [200, 200, 200, 200, 429]
    assert AccessAttempt.objects.get(username=staff.username).failures_since_start == 5
    # The half-signed-in session is over, and the password alone no longer opens a new one.
    assert client.get(LEDGER)["Location"].startswith(reverse("login"))
    locked = client.post(
        reverse("login"), {"username": staff.username, "password": PASSWORD}, REMOTE_ADDR=OFFICE
    )
    assert locked.status_code == 429


def test_the_requirement_is_on_in_production_and_off_in_the_embedded_default(tmp_path):
    import secrets

    from tests.test_security_settings import _env, _settings

    embedded = _settings(_env(tmp_path), "LIWAN_REQUIRE_2FA")
    production = _settings(
        _env(tmp_path, DJANGO_DEBUG="false", DJANGO_SECRET_KEY=secrets.token_urlsafe(50)),
        "LIWAN_REQUIRE_2FA",
    )
    assert embedded == {"LIWAN_REQUIRE_2FA": False}
    assert production == {"LIWAN_REQUIRE_2FA": True}


def test_the_device_keys_are_not_in_the_back_office():
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
