from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db
LEDGER = reverse("rectification:ledger")


def test_it_logs_in_and_out_with_our_pages(client):
    user = factories.UnitStaffFactory()
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "registration/login.html" in [t.name for t in page.templates]
    response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors
    client.post(reverse("login"), {"username": user.username, "password": "correct horse battery"})
    assert client.get(LEDGER).status_code == 200
    client.post(reverse("logout"))
    assert client.get(LEDGER).status_code == 302


def test_visiting_the_sign_out_address_asks_first_and_the_button_signs_out(client):
    user = factories.UnitStaffFactory(full_name="张三")
    client.force_login(user)

    page = client.get(reverse("logout"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "确定要退出登录吗" in html
    assert f'<form method="post" action="{reverse("logout")}"' in html
    assert client.get(LEDGER).status_code == 200  # the visit itself signed nobody out
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(LEDGER).status_code == 302


def test_the_sign_out_address_says_so_when_already_signed_out(client):
    page = client.get(reverse("logout"))

    assert page.status_code == 200
    assert "您已退出登录" in page.content.decode()
    assert reverse("login") in page.content.decode()


def test_a_password_reset_email_lets_the_user_set_a_new_password(client):
    user = factories.UnitStaffFactory(email="jbr@liwan.example")
    client.post(reverse("password_reset"), {"email": "jbr@liwan.example"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "A-much-better-pass-42", "new_password2": "A-much-better-pass-42"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("A-much-better-pass-42")


def test_it_changes_the_password(client):
    user = factories.UnitStaffFactory()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery",
            "new_password1": "Another-good-pass-77",
            "new_password2": "Another-good-pass-77",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Another-good-pass-77")


def test_a_session_ends_after_30_idle_minutes(client):
    user = factories.UnitStaffFactory()
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(user)
        assert client.get(LEDGER).status_code == 200
        traveller.shift(datetime.timedelta(minutes=29))
        assert client.get(LEDGER).status_code == 200
        traveller.shift(datetime.timedelta(minutes=31))
        response = client.get(LEDGER)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_a_session_ends_after_12_hours_even_when_active(client):
    user = factories.UnitStaffFactory()
    start = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(user)
        client.get(LEDGER)
        for _ in range(12 * 60 // 20 + 2):
            traveller.shift(datetime.timedelta(minutes=20))
            response = client.get(LEDGER)
            if response.status_code == 302:
                break
        assert response.status_code == 302
        assert datetime.datetime.now(datetime.UTC) - start > datetime.timedelta(
            hours=11, minutes=59
        )


def test_the_language_switch_changes_the_interface(client):
    client.force_login(factories.UnitStaffFactory())
    chinese = client.get(LEDGER).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": LEDGER})
    english = client.get(LEDGER).content.decode()
    assert "Rectification ledger" in english
    assert "Rectification ledger" not in chinese


def test_an_english_browser_still_gets_chinese_until_the_user_switches(client):
    client.force_login(factories.UnitStaffFactory())
    page = client.get(LEDGER, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in page
