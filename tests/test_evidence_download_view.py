from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def test_it_serves_the_file_as_an_attachment_to_the_owner_unit(client):
    evidence = factories.EvidenceFactory(original_name="会议纪要.pdf")
    client.force_login(factories.UnitStaffFactory(unit=evidence.progress.item.unit))
    response = client.get(reverse("rectification:evidence-download", kwargs={"pk": evidence.pk}))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_it_is_not_found_for_another_unit(client):
    evidence = factories.EvidenceFactory()
    client.force_login(factories.UnitStaffFactory())
    response = client.get(reverse("rectification:evidence-download", kwargs={"pk": evidence.pk}))
    assert response.status_code == 404


def test_no_url_serves_the_media_folder(client):
    evidence = factories.EvidenceFactory()
    client.force_login(factories.StaffUserFactory())
    assert client.get("/media/" + evidence.file.name).status_code == 404
    assert client.get("/media-not-served/" + evidence.file.name).status_code == 404
