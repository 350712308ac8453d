"""The profile page: how a person hears that an item is in their court (notify_mode)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import NotifyMode, User
from tests import factories

pytestmark = pytest.mark.django_db
URL = reverse("profile")


@pytest.mark.parametrize(
    "factory",
    [
        factories.UnitStaffFactory,
        factories.UnitHeadFactory,
        factories.StaffUserFactory,
        factories.OversightFactory,
    ],
)
def test_it_saves_the_notify_mode_of_the_signed_in_person(client, factory):
    user = factory()
    assert user.notify_mode == NotifyMode.IMMEDIATE
    client.force_login(user)

    response = client.post(URL, {"notify_mode": NotifyMode.DAILY}, follow=True)

    assert response.redirect_chain == [(URL, 302)]
    assert "通知设置已保存。" in response.content.decode()
    user.refresh_from_db()
    assert user.notify_mode == NotifyMode.DAILY
    assert response.context["form"]["notify_mode"].value() == NotifyMode.DAILY


def test_it_changes_only_the_signed_in_persons_setting(client):
    me, colleague = factories.UnitStaffFactory(), factories.UnitStaffFactory()
    client.force_login(me)

    # Naming someone else changes nothing for them: the form has no such field.
    client.post(
        URL,
        {
            "notify_mode": NotifyMode.DAILY,
            "id": colleague.pk,
            "pk": colleague.pk,
            "user": colleague.pk,
            "username": colleague.username,
        },
    )

    me.refresh_from_db()
    colleague.refresh_from_db()
    assert me.notify_mode == NotifyMode.DAILY
    assert colleague.notify_mode == NotifyMode.IMMEDIATE
    assert me.username != colleague.username
    assert User.objects.filter(notify_mode=NotifyMode.DAILY).count() == 1


@pytest.mark.parametrize("value", ["weekly", "", "DAILY", "daily; drop table"])
def test_it_refuses_an_invalid_value_with_400_and_keeps_the_setting(client, value):
    user = factories.UnitStaffFactory(notify_mode=NotifyMode.DAILY)
    client.force_login(user)

    response = client.post(URL, {"notify_mode": value})

    assert response.status_code == 400
    assert response.context["form"].errors["notify_mode"]
    user.refresh_from_db()
    assert user.notify_mode == NotifyMode.DAILY


def test_it_shows_the_current_choice_and_where_messages_go(client):
    user = factories.UnitStaffFactory(notify_mode=NotifyMode.DAILY, email="li@example.gov.cn")
    client.force_login(user)

    response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "li@example.gov.cn" in page
    assert "每天汇总一封" in page
    radios = dict(re.findall(r'<input type="radio"[^>]*value="(\w+)"([^>]*)>', page))
    assert set(radios) == {"immediate", "daily"}
    assert "checked" in radios["daily"]
    assert "checked" not in radios["immediate"]
    assert response.context["form"]["notify_mode"].value() == NotifyMode.DAILY


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.post(URL, {"notify_mode": NotifyMode.DAILY})

    assert response.status_code == 302
    assert reverse("login") in response["Location"]
