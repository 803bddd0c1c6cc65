"""Files on company and contact 360 pages as a user meets them: the panel, upload (htmx and plain
form, several files, refusals per file), preview, download, delete, permissions and scope."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from crm.accounts.tests.factories import UserFactory
from crm.core.attachments import responses, services
from crm.core.models import Attachment, JournalEntry
from crm.core.testing import make_user
from crm.core.tests import attachment_samples as samples
from crm.customers.models import Company, Contact

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def me(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def signed_in(client, me):
    client.force_login(me)
    return client


@pytest.fixture
def contact(me):
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", owner=me)


@pytest.fixture
def company(me):
    return Company.objects.create(name="Acme", owner=me)


def upload_url(record) -> str:
    return reverse("core:attachment_upload", args=[record._meta.label_lower, record.pk])


def panel_url(record) -> str:
    return reverse("core:attachment_panel", args=[record._meta.label_lower, record.pk])


def text_of(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def attach(user, record, name="notes.txt", data=samples.TEXT) -> Attachment:
    return services.attachment_upload(actor=user, obj=record, file=samples.upload(name, data))


# --- the panel -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["contact", "company"])
def test_the_360_page_has_an_empty_files_panel_with_an_upload_form(signed_in, contact, company, kind, media):
    record = contact if kind == "contact" else company
    html = signed_in.get(record.get_absolute_url()).content.decode()
    assert 'data-testid="attachments-panel"' in html
    assert 'data-testid="attachments-empty"' in html
    assert "No files yet." in html
    assert f'hx-post="{upload_url(record)}"' in html
    assert 'name="files"' in html and "multiple" in html
    assert 'accept=".pdf,.png,.jpg,' in html


def test_the_panel_lists_files_with_type_size_uploader_and_date(signed_in, me, contact, media):
    attach(me, contact, "合同.pdf", samples.pdf())
    picture = attach(me, contact, "logo.png", samples.png())
    attach(me, contact, "list.csv", samples.CSV)
    html = signed_in.get(contact.get_absolute_url()).content.decode()
    assert html.count('data-testid="attachment-row"') == 3
    assert "合同.pdf" in html and "ti-file-type-pdf" in html and "ti-file-type-csv" in html
    assert f"{len(samples.pdf())}\xa0bytes" in html
    assert me.get_full_name() in html
    assert 'data-testid="attachments-empty"' not in html
    # the image opens in a modal, the PDF in a new tab, the CSV downloads
    preview = reverse("core:attachment_preview", args=[picture.pk])
    assert f'data-bs-target="#attachments-customers-contact-{contact.pk}-view-{picture.pk}"' in html
    assert f'<img src="{preview}"' in html
    pdf = Attachment.objects.get(name="合同.pdf")
    assert (
        f'href="{reverse("core:attachment_preview", args=[pdf.pk])}" class="text-reset d-block text-truncate" target="_blank"'
        in html
    )
    csv = Attachment.objects.get(name="list.csv")
    assert f'href="{reverse("core:attachment_download", args=[csv.pk])}" class="text-reset' in html


def test_a_reader_sees_files_without_upload_or_delete(client, roles, me, contact, media):
    attach(me, contact)
    reader = UserFactory(role=roles["read_only"])
    client.force_login(reader)
    html = client.get(contact.get_absolute_url()).content.decode()
    assert "notes.txt" in html
    assert 'data-testid="attachments-upload"' not in html
    assert "ti-trash" not in html


def test_the_panel_costs_the_same_queries_for_one_file_or_twenty(
    signed_in, me, contact, media, django_assert_max_num_queries
):
    """Pinned: the panel adds two queries (content type is cached; the files with their uploaders)."""
    from crm.core.attachments import panels

    url = panel_url(contact)
    attach(me, contact)
    signed_in.get(url)
    with django_assert_max_num_queries(99) as one:
        signed_in.get(url)
    for index in range(19):
        attach(me, contact, f"file{index}.txt")
    with django_assert_max_num_queries(99) as twenty:
        signed_in.get(url)
    assert len(one.captured_queries) == len(twenty.captured_queries)
    with django_assert_max_num_queries(1):
        context = panels.panel_context(user=me, obj=contact)
        assert len(context["attachments"]) == 20
        [row["object"].uploaded_by for row in context["attachments"]]


# --- upload ----------------------------------------------------------------------------------------


def test_upload_several_files_with_htmx(signed_in, me, contact, media):
    files = [samples.upload("合同.pdf", samples.pdf(), "application/pdf"), samples.upload("logo.png", samples.png())]
    response = signed_in.post(upload_url(contact), {"files": files}, headers=HTMX)
    assert response.status_code == 200
    text = text_of(response)
    assert "2 files attached." in text and "合同.pdf" in text and "logo.png" in text
    assert sorted(Attachment.objects.values_list("name", "mime_type")) == [
        ("logo.png", "image/png"),
        ("合同.pdf", "application/pdf"),
    ]
    assert len(samples.stored_files(media)) == 2
    assert set(
        JournalEntry.objects.filter(action="create", content_type__model="attachment").values_list("source", flat=True)
    ) == {"web"}


def test_refused_files_are_named_each_with_its_reason_and_nothing_is_stored(signed_in, contact, media):
    files = [
        samples.upload("photo.pdf", samples.png(), "application/pdf"),
        samples.upload("cat.png", samples.HTML, "image/png"),
        samples.upload("logo.svg", samples.SVG, "image/svg+xml"),
        samples.upload("setup.exe", samples.EXE),
        samples.upload("empty.txt", b""),
        samples.upload("fine.txt", samples.TEXT),
    ]
    response = signed_in.post(upload_url(contact), {"files": files}, headers=HTMX)
    assert response.status_code == 200
    errors = re.findall(r"<li>(.*?)</li>", unescape(response.content.decode()))
    accepted = (
        "Accepted: PDF, images (PNG, JPEG, GIF, WebP), text and CSV, Word, Excel and PowerPoint "
        "(.docx, .xlsx, .pptx), OpenDocument (.odt, .ods, .odp) and ZIP files."
    )
    assert errors == [
        "“photo.pdf” says it is a PDF document but its content is a PNG image.",
        "“cat.png” says it is a PNG image but its content is an HTML page.",
        f"“logo.svg” cannot be attached: its content is an SVG image, which can carry scripts. {accepted}",
        f"“setup.exe” cannot be attached: its content is a Windows program. {accepted}",
        "“empty.txt” is empty.",
        "“fine.txt” was not uploaded, because another file was refused.",
    ]
    assert "Nothing was uploaded." in text_of(response)
    assert not Attachment.objects.exists()
    assert samples.stored_files(media) == []


def test_a_too_big_file_is_refused_with_the_limit(signed_in, contact, media, settings):
    settings.ATTACHMENT_MAX_BYTES = 2048
    response = signed_in.post(
        upload_url(contact), {"files": [samples.upload("big.pdf", samples.pdf() * 10)]}, headers=HTMX
    )
    assert "“big.pdf” is larger than the limit of 2.0 KB." in text_of(response)
    assert not Attachment.objects.exists()


def test_an_upload_without_files_says_so(signed_in, contact, media):
    response = signed_in.post(upload_url(contact), {}, headers=HTMX)
    assert "Choose a file to upload." in text_of(response)


def test_the_plain_form_redirects_back_with_a_message(signed_in, contact, media):
    response = signed_in.post(upload_url(contact), {"files": [samples.upload("notes.txt", samples.TEXT)]}, follow=True)
    assert response.redirect_chain == [(contact.get_absolute_url(), 302)]
    assert "1 file attached." in text_of(response)
    response = signed_in.post(upload_url(contact), {"files": [samples.upload("x.pdf", samples.png())]}, follow=True)
    assert "“x.pdf” says it is a PDF document but its content is a PNG image." in text_of(response)
    assert Attachment.objects.count() == 1


def test_a_reader_cannot_upload(client, roles, me, contact, media):
    client.force_login(UserFactory(role=roles["read_only"]))
    response = client.post(upload_url(contact), {"files": [samples.upload("a.txt", samples.TEXT)]}, headers=HTMX)
    assert response.status_code == 403
    assert not Attachment.objects.exists()
    assert samples.stored_files(media) == []


# --- download and preview --------------------------------------------------------------------------


def test_download_gives_the_original_name_and_the_type_found_in_the_content(signed_in, me, contact, media):
    attachment = attach(me, contact, "合同.pdf", samples.pdf())
    response = signed_in.get(reverse("core:attachment_download", args=[attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.pdf()
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"]
        == "attachment; filename=\"attachment.pdf\"; filename*=UTF-8''%E5%90%88%E5%90%8C.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == responses.DOWNLOAD_CSP
    assert response["Content-Length"] == str(len(samples.pdf()))


def test_preview_shows_images_and_pdf_in_a_sandbox(signed_in, me, contact, media):
    picture = attach(me, contact, "logo.png", samples.png())
    response = signed_in.get(reverse("core:attachment_preview", args=[picture.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="logo.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == responses.IMAGE_CSP
    assert "sandbox" in response["Content-Security-Policy"]
    document = attach(me, contact, "offer.pdf", samples.pdf())
    response = signed_in.get(reverse("core:attachment_preview", args=[document.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="offer.pdf"'
    assert response["Content-Security-Policy"] == responses.PDF_CSP
    assert "sandbox" in response["Content-Security-Policy"]


def test_other_types_are_not_previewed(signed_in, me, contact, media):
    for name, data in [("notes.txt", samples.TEXT), ("book.xlsx", samples.xlsx()), ("bundle.zip", samples.plain_zip())]:
        attachment = attach(me, contact, name, data)
        assert signed_in.get(reverse("core:attachment_preview", args=[attachment.pk])).status_code == 404
        assert signed_in.get(reverse("core:attachment_download", args=[attachment.pk])).status_code == 200


def test_a_file_missing_from_storage_answers_404(signed_in, me, contact, media):
    attachment = attach(me, contact)
    (media / attachment.file.name).unlink()
    assert signed_in.get(reverse("core:attachment_download", args=[attachment.pk])).status_code == 404


# --- delete ----------------------------------------------------------------------------------------


def test_delete_with_htmx_refreshes_the_panel_and_removes_the_file(
    signed_in, me, contact, media, django_capture_on_commit_callbacks
):
    kept = attach(me, contact, "kept.txt")
    doomed = attach(me, contact, "doomed.txt")
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("core:attachment_delete", args=[doomed.pk]), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "kept.txt" in html and "doomed.txt" not in html
    assert list(Attachment.objects.all()) == [kept]
    assert samples.stored_files(media) == [media / kept.file.name]


def test_delete_without_htmx_redirects_to_the_record(signed_in, me, company, media):
    attachment = attach(me, company)
    response = signed_in.post(reverse("core:attachment_delete", args=[attachment.pk]), follow=True)
    assert response.redirect_chain == [(company.get_absolute_url(), 302)]
    assert "“notes.txt” was deleted." in text_of(response)


def test_a_reader_cannot_delete(client, roles, me, contact, media):
    attachment = attach(me, contact)
    client.force_login(UserFactory(role=roles["read_only"]))
    assert client.post(reverse("core:attachment_delete", args=[attachment.pk]), headers=HTMX).status_code == 403
    assert Attachment.objects.filter(pk=attachment.pk).exists()


# --- out of scope: 404 everywhere --------------------------------------------------------------------


def test_a_user_outside_the_scope_reaches_nothing(client, me, contact, company, media):
    on_contact = attach(me, contact, "a.png", samples.png())
    on_company = attach(me, company, "b.pdf", samples.pdf())
    stranger = make_user(module="customers", scope="own")
    client.force_login(stranger)
    assert client.get(contact.get_absolute_url()).status_code == 404
    for record in (contact, company):
        assert client.get(panel_url(record)).status_code == 404
        response = client.post(upload_url(record), {"files": [samples.upload("x.txt", samples.TEXT)]}, headers=HTMX)
        assert response.status_code == 404
    for attachment in (on_contact, on_company):
        assert client.get(reverse("core:attachment_download", args=[attachment.pk])).status_code == 404
        assert client.get(reverse("core:attachment_preview", args=[attachment.pk])).status_code == 404
        assert client.post(reverse("core:attachment_delete", args=[attachment.pk])).status_code == 404
    assert Attachment.objects.count() == 2
    assert len(samples.stored_files(media)) == 2


def test_a_user_without_the_customers_module_reaches_nothing(client, me, contact, media):
    attachment = attach(me, contact)
    client.force_login(make_user(module="other", scope="all"))
    assert client.get(panel_url(contact)).status_code == 404
    assert client.get(reverse("core:attachment_download", args=[attachment.pk])).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, me, contact, media):
    attachment = attach(me, contact)
    response = client.get(reverse("core:attachment_download", args=[attachment.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- deleting the record ---------------------------------------------------------------------------


def test_deleting_the_contact_removes_its_files_from_storage(
    signed_in, me, contact, media, django_capture_on_commit_callbacks
):
    attach(me, contact, "a.pdf", samples.pdf())
    attach(me, contact, "b.png", samples.png())
    other = Contact.objects.create(first_name="Grace", owner=me)
    survivor = attach(me, other, "c.txt")
    assert len(samples.stored_files(media)) == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("customers:contact_delete", args=[contact.pk]))
    assert response.status_code == 302
    assert list(Attachment.objects.all()) == [survivor]
    assert samples.stored_files(media) == [media / survivor.file.name]


def test_deleting_a_company_removes_its_files(me, company, media, django_capture_on_commit_callbacks):
    from crm.customers import services as customer_services

    attach(me, company)
    with django_capture_on_commit_callbacks(execute=True):
        customer_services.company_delete(actor=me, company=company)
    assert not Attachment.objects.exists()
    assert samples.stored_files(media) == []
