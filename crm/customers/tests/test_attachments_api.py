"""``/api/v1/attachments/`` on companies and contacts: list by record, upload (multipart), details,
download, delete; scope, permissions and refusals in the API's error format."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm.accounts.tests.factories import UserFactory, make_token
from crm.core.attachments import services
from crm.core.models import Attachment, JournalEntry
from crm.core.testing import api_client, make_user
from crm.core.tests import attachment_samples as samples
from crm.customers.models import Company, Contact

pytestmark = pytest.mark.django_db
LIST = reverse("core-api:attachment-list")


def detail(pk: int) -> str:
    return reverse("core-api:attachment-detail", args=[pk])


def download(pk: int) -> str:
    return reverse("core-api:attachment-download", args=[pk])


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def me(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def contact(me):
    return Contact.objects.create(first_name="Ada", owner=me)


@pytest.fixture
def company(me):
    return Company.objects.create(name="Acme", owner=me)


def attach(user, record, name="notes.txt", data=samples.TEXT) -> Attachment:
    return services.attachment_upload(actor=user, obj=record, file=samples.upload(name, data))


def post_file(api, record, name, data, **extra):
    body = {
        "record_type": record._meta.label_lower,
        "record_id": record.pk,
        "file": samples.upload(name, data),
        **extra,
    }
    return api.post(LIST, body, format="multipart")


def test_upload_returns_the_attachment_and_is_journaled_as_api(me, contact, media):
    response = post_file(api_client(me), contact, "合同.pdf", samples.pdf())
    assert response.status_code == 201, response.content
    body = response.json()
    attachment = Attachment.objects.get()
    assert body == {
        "id": attachment.pk,
        "record_type": "customers.contact",
        "record_id": contact.pk,
        "name": "合同.pdf",
        "mime_type": "application/pdf",
        "size": len(samples.pdf()),
        "sha256": attachment.sha256,
        "uploaded_by": me.pk,
        "uploaded_by_name": me.get_full_name(),
        "created_at": body["created_at"],
        "download_url": f"http://testserver{download(attachment.pk)}",
    }
    entry = JournalEntry.objects.get(content_type__model="attachment", action="create")
    assert (entry.source, entry.actor_id) == ("api", me.pk)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.pdf", samples.png(), "“photo.pdf” says it is a PDF document but its content is a PNG image."),
        ("cat.png", samples.HTML, "“cat.png” says it is a PNG image but its content is an HTML page."),
        ("empty.txt", b"", "“empty.txt” is empty."),
        ("passwd", samples.TEXT, "“passwd” has no extension: name it after its type (its content is plain text)."),
    ],
)
def test_a_refused_file_is_a_400_on_the_file_field(me, contact, media, name, data, message):
    response = post_file(api_client(me), contact, name, data)
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "code": "invalid", "errors": {"file": [message]}}
    assert not Attachment.objects.exists()
    assert samples.stored_files(media) == []


def test_svg_and_exe_are_refused(me, contact, media):
    for name, data in [("logo.svg", samples.SVG), ("setup.exe", samples.EXE)]:
        response = post_file(api_client(me), contact, name, data)
        assert response.status_code == 400
        assert response.json()["errors"]["file"][0].startswith(f"“{name}” cannot be attached: its content is ")
    assert not Attachment.objects.exists()


def test_a_too_big_file_is_refused(me, contact, media, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    response = post_file(api_client(me), contact, "notes.txt", b"a" * 101)
    assert response.status_code == 400
    assert response.json()["errors"] == {"file": ["“notes.txt” is larger than the limit of 100\xa0bytes."]}


def test_a_path_traversal_name_is_reduced_to_its_last_part(me, contact, media):
    api = api_client(me)
    body = {"record_type": "customers.contact", "record_id": contact.pk}
    upload = samples.upload("x.txt", samples.TEXT)
    upload.name = "../../etc/passwd.txt"
    response = api.post(LIST, {**body, "file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "passwd.txt"
    (stored,) = samples.stored_files(media)
    assert stored.is_relative_to(media / "attachments")


def test_bad_record_fields_are_field_errors(me, contact, media):
    api = api_client(me)
    response = api.post(
        LIST,
        {"record_type": "accounts.user", "record_id": 1, "file": samples.upload("a.txt", samples.TEXT)},
        format="multipart",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["record_type"]
    response = api.post(
        LIST,
        {
            "record_type": "customers.contact",
            "record_id": contact.pk,
            "file": samples.upload("a.txt", samples.TEXT),
            "owner": 1,
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"owner": ["Unknown field: it cannot be set here."]}
    response = api.post(LIST, {"record_type": "customers.contact", "record_id": contact.pk}, format="json")
    assert response.status_code == 415
    assert not Attachment.objects.exists()


def test_list_by_record_and_everything_visible(me, contact, company, media):
    on_contact = attach(me, contact, "a.txt")
    on_company = attach(me, company, "b.txt")
    api = api_client(me)
    rows = api.get(LIST, {"record_type": "customers.contact", "record_id": contact.pk}).json()["results"]
    assert [row["id"] for row in rows] == [on_contact.pk]
    rows = api.get(LIST, {"record_type": "customers.company", "record_id": company.pk}).json()["results"]
    assert [row["id"] for row in rows] == [on_company.pk]
    rows = api.get(LIST).json()["results"]
    assert [row["id"] for row in rows] == [on_company.pk, on_contact.pk]


def test_list_filters_must_name_a_record(me, contact, media):
    api = api_client(me)
    response = api.get(LIST, {"record_type": "customers.contact"})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["record_id"]
    response = api.get(LIST, {"record_type": "nothing.here", "record_id": "x"})
    assert response.status_code == 400 and sorted(response.json()["errors"]) == ["record_id", "record_type"]


def test_details_download_and_delete(me, contact, media, django_capture_on_commit_callbacks):
    attachment = attach(me, contact, "offer.pdf", samples.pdf())
    api = api_client(me)
    assert api.get(detail(attachment.pk)).json()["name"] == "offer.pdf"
    response = api.get(download(attachment.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.pdf()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="offer.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(detail(attachment.pk)).status_code == 204
    assert not Attachment.objects.exists()
    assert samples.stored_files(media) == []
    assert api.get(detail(attachment.pk)).status_code == 404


def test_a_user_outside_the_scope_gets_404_everywhere(roles, me, contact, media):
    attachment = attach(me, contact)
    stranger = api_client(make_user(module="customers", scope="own"))
    assert stranger.get(LIST).json()["results"] == []
    assert stranger.get(LIST, {"record_type": "customers.contact", "record_id": contact.pk}).status_code == 404
    assert stranger.get(detail(attachment.pk)).status_code == 404
    assert stranger.get(download(attachment.pk)).status_code == 404
    assert stranger.delete(detail(attachment.pk)).status_code == 404
    response = post_file(stranger, contact, "x.txt", samples.TEXT)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert list(Attachment.objects.all()) == [attachment]
    assert len(samples.stored_files(media)) == 1


def test_a_missing_record_or_attachment_looks_the_same_as_a_hidden_one(me, media):
    api = api_client(me)
    assert api.get(LIST, {"record_type": "customers.contact", "record_id": 999999}).status_code == 404
    assert api.get(detail(999999)).status_code == 404
    assert api.get(download(999999)).status_code == 404


def test_a_reader_cannot_upload_or_delete(roles, me, contact, media):
    attachment = attach(me, contact)
    reader = api_client(UserFactory(role=roles["read_only"]))
    assert reader.get(detail(attachment.pk)).status_code == 200
    assert post_file(reader, contact, "x.txt", samples.TEXT).status_code == 403
    assert reader.delete(detail(attachment.pk)).status_code == 403
    assert Attachment.objects.count() == 1


def test_a_read_only_token_cannot_write(me, contact, media):
    attachment = attach(me, contact)
    _token, secret = make_token(me, read_only=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get(download(attachment.pk)).status_code == 200
    assert post_file(api, contact, "x.txt", samples.TEXT).status_code == 403
    assert api.delete(detail(attachment.pk)).status_code == 403
    assert Attachment.objects.count() == 1


def test_anonymous_is_refused(me, contact, media):
    attachment = attach(me, contact)
    assert APIClient().get(download(attachment.pk)).status_code in (401, 403)
    assert APIClient().get(LIST).status_code in (401, 403)
