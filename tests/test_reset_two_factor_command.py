"""`manage.py reset_two_factor USERNAME`: an operator removes a lost second factor; the user
sets up a new authenticator at the next sign-in."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from tests.test_two_factor_views import LEDGER, SETUP, enrolled, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def required(settings):
    settings.LIWAN_REQUIRE_2FA = True


def test_it_removes_the_second_factor_and_the_user_enrols_again(client):
    import io

    from django.core.management import call_command
    from django_otp.plugins.otp_static.models import StaticDevice

    staff = factories.StaffUserFactory()
    enrolled(staff)
    out = io.StringIO()
    call_command("reset_two_factor", staff.username, stdout=out)
    assert "已删除" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    sign_in(client, staff)
    assert client.get(LEDGER)["Location"].startswith(SETUP)


def test_it_names_an_unknown_account():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="没有账号「nobody」"):
        call_command("reset_two_factor", "nobody")
