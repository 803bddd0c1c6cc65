"""Attachments as a platform part: any model takes them by registering (here the test-only Gadget),
access follows the record, writes are all-or-nothing and journaled, files leave storage only once a
delete commits, and deleting a record deletes its files."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.handlers.wsgi import WSGIRequest
from django.db import transaction
from django.db.models.signals import post_delete
from django.test import RequestFactory
from django.urls import reverse

from crm.core.attachments import panels, selectors, services, uploads
from crm.core.models import Attachment, JournalEntry
from crm.core.registry import RecordPanel, platform
from crm.core.testing import make_user
from crm.core.tests import attachment_samples as samples
from crm.core.tests.sample.models import Gadget, Label

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def gadgets_take_files():
    """The sample app's Gadget takes attachments for the length of a test."""
    target = platform.register_attachments(Gadget, module="sample")
    yield target
    platform.attachments.pop(target.label, None)
    post_delete.disconnect(sender=Gadget, dispatch_uid="crm-attachments-sample.gadget")


@pytest.fixture
def owner(roles):
    return make_user(module="sample", scope="own")


def gadget_of(user, name="Widget") -> Gadget:
    return Gadget.objects.create(name=name, owner=user)


def attach(user, gadget, name="notes.txt", data=samples.TEXT) -> Attachment:
    return services.attachment_upload(actor=user, obj=gadget, file=samples.upload(name, data))


# --- registering -----------------------------------------------------------------------------------


def test_registering_names_the_module_and_the_record(gadgets_take_files):
    assert gadgets_take_files.label == "sample.gadget"
    assert gadgets_take_files.module == "sample"
    assert platform.attachment_target("sample.gadget") is gadgets_take_files
    assert platform.attachment_target(Gadget) is gadgets_take_files
    assert platform.attachment_target(Gadget(name="x")) is gadgets_take_files
    assert platform.attachment_target("sample.label") is None
    assert platform.attachment_target(Label) is None


def test_only_scoped_models_with_integer_keys_can_register():
    with pytest.raises(ImproperlyConfigured, match="visible_to"):
        platform.register_attachments(Label, module="sample")
    uuid_model = SimpleNamespace(
        __name__="Thing",
        _default_manager=SimpleNamespace(visible_to=lambda user: None),
        _meta=SimpleNamespace(concrete_model=None, pk=SimpleNamespace(get_internal_type=lambda: "UUIDField")),
    )
    with pytest.raises(ImproperlyConfigured, match="integer primary key"):
        platform.register_attachments(uuid_model, module="sample")
    with pytest.raises(ImproperlyConfigured, match="permission module"):
        platform.register_attachments(Label)
    assert "sample.label" not in platform.attachments


def test_companies_and_contacts_are_registered_with_their_panel():
    assert platform.attachment_target("customers.contact").module == "customers"
    assert platform.attachment_target("customers.company").module == "customers"
    panel = platform.panels["attachments"]
    assert panel.models == ("customers.contact", "customers.company")
    assert panel.template == panels.TEMPLATE


def test_the_panel_factory_gives_a_record_panel():
    panel = panels.attachments_panel(module="sales", models=("sales.deal",))
    assert isinstance(panel, RecordPanel)
    assert (panel.key, panel.module, panel.models, panel.column) == (
        "attachments-sales",
        "sales",
        ("sales.deal",),
        "side",
    )


def test_an_unregistered_model_is_refused(owner, media):
    label = Label.objects.create(name="x")
    with pytest.raises(ValidationError) as caught:
        services.attachment_upload(actor=owner, obj=label, file=samples.upload("a.txt", samples.TEXT))
    assert caught.value.message_dict == {"record_type": ["Files cannot be attached to labels."]}
    assert selectors.record_get(user=owner, record_type="sample.label", record_id=label.pk) is None
    assert not Attachment.objects.exists()
    assert samples.stored_files(media) == []


# --- upload ----------------------------------------------------------------------------------------


def test_upload_stores_the_file_under_a_random_name_and_journals_the_row(owner, gadgets_take_files, media):
    gadget = gadget_of(owner)
    attachment = attach(owner, gadget, name="合同.pdf", data=samples.pdf())
    attachment.refresh_from_db()
    assert attachment.name == "合同.pdf"
    assert attachment.mime_type == "application/pdf"
    assert attachment.size == len(samples.pdf())
    assert attachment.content_type == ContentType.objects.get_for_model(Gadget)
    assert attachment.object_id == gadget.pk
    assert attachment.uploaded_by == owner
    assert attachment.file.name.startswith("attachments/")
    assert "合同" not in attachment.file.name and "." not in attachment.file.name.rsplit("/", 1)[-1]
    (stored,) = samples.stored_files(media)
    assert stored.read_bytes() == samples.pdf()
    entry = JournalEntry.objects.get(content_type=ContentType.objects.get_for_model(Attachment))
    assert entry.action == "create"
    assert entry.changes["name"] == [None, "合同.pdf"]
    assert "sha256" not in entry.changes


def test_a_path_traversal_name_stays_inside_storage(owner, gadgets_take_files, media):
    upload = samples.upload("passwd.txt", samples.TEXT)
    attachment = services.attachment_upload(actor=owner, obj=gadget_of(owner), file=upload, name="../../etc/passwd.txt")
    assert attachment.name == "passwd.txt"
    (stored,) = samples.stored_files(media)
    assert stored.is_relative_to(media / "attachments")


def test_several_files_are_all_stored_or_none(owner, gadgets_take_files, media):
    gadget = gadget_of(owner)
    files = [
        samples.upload("a.txt", samples.TEXT),
        samples.upload("b.png", samples.HTML),
        samples.upload("c.pdf", samples.pdf()),
    ]
    with pytest.raises(services.UploadRefused) as caught:
        services.attachments_upload(actor=owner, obj=gadget, files=files)
    assert [(o.name, o.errors) for o in caught.value.outcomes] == [
        ("a.txt", ["“a.txt” was not uploaded, because another file was refused."]),
        ("b.png", ["“b.png” says it is a PNG image but its content is an HTML page."]),
        ("c.pdf", ["“c.pdf” was not uploaded, because another file was refused."]),
    ]
    assert not Attachment.objects.exists()
    assert samples.stored_files(media) == []
    good = [samples.upload("a.txt", samples.TEXT), samples.upload("c.pdf", samples.pdf())]
    stored = services.attachments_upload(actor=owner, obj=gadget, files=good)
    assert [a.name for a in stored] == ["a.txt", "c.pdf"]
    assert len(samples.stored_files(media)) == 2


def test_too_many_files_at_once_are_refused(owner, gadgets_take_files, media):
    files = [samples.upload(f"{n}.txt", samples.TEXT) for n in range(services.MAX_FILES + 1)]
    with pytest.raises(ValidationError) as caught:
        services.attachments_upload(actor=owner, obj=gadget_of(owner), files=files)
    assert caught.value.message_dict == {"file": ["Upload at most 10 files at once."]}
    assert samples.stored_files(media) == []


def test_a_failing_row_write_removes_the_files_already_stored(owner, gadgets_take_files, media, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Attachment, "save", broken_save)
    with pytest.raises(RuntimeError):
        attach(owner, gadget_of(owner))
    assert samples.stored_files(media) == []


def test_upload_needs_edit_on_the_module_and_the_record_in_scope(roles, gadgets_take_files, media):
    reader = make_user(module="sample", actions=("view",), scope="all")
    owner = make_user(module="sample", scope="own")
    stranger = make_user(module="sample", scope="own")
    gadget = gadget_of(owner)
    with pytest.raises(PermissionDenied):
        attach(reader, gadget)
    with pytest.raises(PermissionDenied):
        attach(stranger, gadget)
    assert not Attachment.objects.exists()
    assert samples.stored_files(media) == []


# --- reading ---------------------------------------------------------------------------------------


def test_an_attachment_is_visible_exactly_when_its_record_is(roles, gadgets_take_files, media):
    owner = make_user(module="sample", scope="own")
    stranger = make_user(module="sample", scope="own")
    everyone = make_user(module="sample", actions=("view",), scope="all")
    nobody = make_user(module="other", scope="all")
    gadget = gadget_of(owner)
    attachment = attach(owner, gadget)
    assert selectors.attachment_get(user=owner, pk=attachment.pk) == attachment
    assert selectors.attachment_get(user=everyone, pk=attachment.pk) == attachment
    assert selectors.attachment_get(user=stranger, pk=attachment.pk) is None
    assert selectors.attachment_get(user=nobody, pk=attachment.pk) is None
    assert selectors.attachment_get(user=owner, pk="not-a-number") is None
    assert list(selectors.attachments_visible_to(owner)) == [attachment]
    assert list(selectors.attachments_visible_to(stranger)) == []
    assert list(selectors.attachments_visible_to(nobody)) == []
    assert list(selectors.attachment_list(user=stranger, obj=gadget)) == []


def test_an_unregistered_kind_of_record_reads_as_absent(owner, gadgets_take_files, media):
    attachment = attach(owner, gadget_of(owner))
    platform.attachments.pop("sample.gadget")
    assert selectors.attachment_get(user=owner, pk=attachment.pk) is None
    assert list(selectors.attachments_visible_to(owner)) == []


# --- deleting --------------------------------------------------------------------------------------


def test_delete_removes_the_file_only_when_the_transaction_commits(
    owner, gadgets_take_files, media, django_capture_on_commit_callbacks
):
    attachment = attach(owner, gadget_of(owner))
    (stored,) = samples.stored_files(media)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.attachment_delete(actor=owner, attachment=selectors.attachment_get(user=owner, pk=attachment.pk))
    assert not Attachment.objects.exists()
    assert stored.exists()  # not before the commit
    for callback in callbacks:
        callback()
    assert not stored.exists()
    entry = JournalEntry.objects.get(content_type=ContentType.objects.get_for_model(Attachment), action="delete")
    assert entry.changes["name"] == ["notes.txt", None]


def test_a_rolled_back_delete_keeps_row_and_file(owner, gadgets_take_files, media, django_capture_on_commit_callbacks):
    attachment = attach(owner, gadget_of(owner))
    pk = attachment.pk
    (stored,) = samples.stored_files(media)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.attachment_delete(actor=owner, attachment=attachment)
        raise RuntimeError("something else failed")
    assert callbacks == []
    assert Attachment.objects.filter(pk=pk).exists()
    assert stored.exists()


def test_delete_needs_edit(roles, gadgets_take_files, media):
    owner = make_user(module="sample", scope="own")
    reader = make_user(module="sample", actions=("view",), scope="all")
    attachment = attach(owner, gadget_of(owner))
    with pytest.raises(PermissionDenied):
        services.attachment_delete(actor=reader, attachment=attachment)
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_deleting_a_record_deletes_its_attachments_and_files(
    owner, gadgets_take_files, media, django_capture_on_commit_callbacks
):
    doomed, kept = gadget_of(owner, "Doomed"), gadget_of(owner, "Kept")
    first, second = attach(owner, doomed, "a.txt"), attach(owner, doomed, "b.pdf", samples.pdf())
    survivor = attach(owner, kept, "c.txt")
    assert len(samples.stored_files(media)) == 3
    with django_capture_on_commit_callbacks(execute=True):
        doomed.delete()
    assert list(Attachment.objects.all()) == [survivor]
    assert samples.stored_files(media) == [media / survivor.file.name]
    deleted = JournalEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Attachment), action="delete"
    ).values_list("object_id", flat=True)
    assert sorted(deleted) == sorted([str(first.pk), str(second.pk)])


def test_a_bulk_delete_of_records_deletes_their_attachments(
    owner, gadgets_take_files, media, django_capture_on_commit_callbacks
):
    gadgets = [gadget_of(owner, f"G{n}") for n in range(3)]
    for gadget in gadgets:
        attach(owner, gadget)
    with django_capture_on_commit_callbacks(execute=True):
        Gadget.objects.filter(pk__in=[g.pk for g in gadgets[:2]]).delete()
    assert [a.object_id for a in Attachment.objects.all()] == [gadgets[2].pk]
    assert len(samples.stored_files(media)) == 1


def test_attachments_move_to_another_record(owner, gadgets_take_files, media):
    source, target = gadget_of(owner, "Old"), gadget_of(owner, "New")
    attachment = attach(owner, source)
    assert services.attachments_move(actor=owner, source=source, target=target) == 1
    attachment.refresh_from_db()
    assert attachment.object_id == target.pk
    (entry,) = JournalEntry.objects.filter(content_type=ContentType.objects.get_for_model(Attachment), action="update")
    assert entry.changes["object_id"] == [source.pk, target.pk]


# --- the size limit while the upload arrives ----------------------------------------------------------


class Untouchable:
    """A request body that fails the test if anyone reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_a_request_declaring_more_than_any_upload_can_be_is_refused_unread(owner, gadgets_take_files, settings):
    settings.FILE_UPLOAD_HANDLERS = samples.WITH_LIMIT_HANDLER
    settings.ATTACHMENT_MAX_BYTES = 1000
    url = reverse("core:attachment_upload", args=["sample.gadget", gadget_of(owner).pk])
    template = RequestFactory().post(url, {"files": samples.upload("a.txt", samples.TEXT)})
    environ = {**template.environ, "wsgi.input": Untouchable(), "CONTENT_LENGTH": str(uploads.request_limit() + 1)}
    request = WSGIRequest(environ)
    assert request.FILES == {} and dict(request.POST) == {}
    refusal = uploads.refusal(request)
    assert refusal is not None and refusal.whole_request


def test_the_handler_leaves_other_uploads_alone(owner, settings):
    settings.FILE_UPLOAD_HANDLERS = samples.WITH_LIMIT_HANDLER
    settings.ATTACHMENT_MAX_BYTES = 10
    request = RequestFactory().post(
        reverse("customers-api:import-list"), {"file": samples.upload("a.csv", samples.CSV)}
    )
    assert request.FILES["file"].read() == samples.CSV
    assert uploads.refusal(request) is None


def test_a_file_past_the_limit_is_not_kept_and_nothing_is_stored(client, owner, gadgets_take_files, settings, media):
    settings.FILE_UPLOAD_HANDLERS = samples.WITH_LIMIT_HANDLER
    settings.ATTACHMENT_MAX_BYTES = 1000
    gadget = gadget_of(owner)
    client.force_login(owner)
    url = reverse("core:attachment_upload", args=["sample.gadget", gadget.pk])
    files = [samples.upload("small.txt", samples.TEXT), samples.upload("big.txt", b"a" * 5000)]
    response = client.post(url, {"files": files}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nothing was uploaded." in text
    assert "“big.txt” is larger than the limit of 1000\xa0bytes." in text
    assert "“small.txt” was not uploaded, because another file was refused." in text
    assert not Attachment.objects.exists()
    assert samples.stored_files(media) == []


def test_without_the_handler_the_service_still_refuses_a_big_file(client, owner, gadgets_take_files, settings, media):
    settings.FILE_UPLOAD_HANDLERS = samples.DEFAULT_UPLOAD_HANDLERS
    settings.ATTACHMENT_MAX_BYTES = 1000
    client.force_login(owner)
    url = reverse("core:attachment_upload", args=["sample.gadget", gadget_of(owner).pk])
    response = client.post(url, {"files": [samples.upload("big.txt", b"a" * 5000)]}, headers={"HX-Request": "true"})
    assert "“big.txt” is larger than the limit of 1000\xa0bytes." in response.content.decode()
    assert not Attachment.objects.exists()
    assert samples.stored_files(media) == []


def test_a_huge_upload_through_the_page_is_refused_as_a_whole(client, owner, gadgets_take_files, settings, media):
    settings.FILE_UPLOAD_HANDLERS = samples.WITH_LIMIT_HANDLER
    settings.ATTACHMENT_MAX_BYTES = 100
    client.force_login(owner)
    url = reverse("core:attachment_upload", args=["sample.gadget", gadget_of(owner).pk])
    big = samples.upload("big.txt", b"a" * (uploads.request_limit() + 10))
    response = client.post(url, {"files": [big]}, headers={"HX-Request": "true"})
    assert (
        "The upload is too large: at most 10 files of up to 100\xa0bytes each. Nothing was uploaded."
        in response.content.decode()
    )
    assert not Attachment.objects.exists()


def test_the_api_reports_a_file_stopped_by_the_handler(owner, gadgets_take_files, settings, media):
    from crm.core.testing import api_client

    settings.FILE_UPLOAD_HANDLERS = samples.WITH_LIMIT_HANDLER
    settings.ATTACHMENT_MAX_BYTES = 1000
    body = {
        "record_type": "sample.gadget",
        "record_id": gadget_of(owner).pk,
        "file": samples.upload("big.txt", b"a" * 5000),
    }
    response = api_client(owner).post(reverse("core-api:attachment-list"), body, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == {"file": ["“big.txt” is larger than the limit of 1000\xa0bytes."]}
    assert samples.stored_files(media) == []


def test_everyone_in_scope_all_sees_every_attachment_of_the_kind(roles, gadgets_take_files, media):
    owner = make_user(module="sample", scope="own")
    boss = make_user(module="sample", scope="all")
    attachments = [attach(owner, gadget_of(owner, f"G{n}")) for n in range(2)]
    assert sorted(a.pk for a in selectors.attachments_visible_to(boss)) == sorted(a.pk for a in attachments)


# --- any registered model gets the pages ---------------------------------------------------------------


def test_a_registered_model_gets_upload_download_and_delete_pages(client, owner, gadgets_take_files, media):
    gadget = gadget_of(owner)
    client.force_login(owner)
    response = client.post(
        reverse("core:attachment_upload", args=["sample.gadget", gadget.pk]),
        {"files": [samples.upload("manual.pdf", samples.pdf())]},
    )
    assert response.status_code == 302 and response["Location"] == gadget.get_absolute_url()
    attachment = Attachment.objects.get()
    download = client.get(reverse("core:attachment_download", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == samples.pdf()
    panel = client.get(reverse("core:attachment_panel", args=["sample.gadget", gadget.pk]))
    assert "manual.pdf" in panel.content.decode()
    response = client.post(reverse("core:attachment_delete", args=[attachment.pk]))
    assert response.status_code == 302
    assert not Attachment.objects.exists()


def test_pages_of_an_unregistered_model_answer_404(client, owner, media):
    client.force_login(owner)
    label = Label.objects.create(name="x")
    assert client.get(reverse("core:attachment_panel", args=["sample.label", label.pk])).status_code == 404
    response = client.post(
        reverse("core:attachment_upload", args=["sample.label", label.pk]),
        {"files": [samples.upload("a.txt", samples.TEXT)]},
    )
    assert response.status_code == 404
    assert client.get(reverse("core:attachment_panel", args=["no.such", 1])).status_code == 404
    assert samples.stored_files(media) == []
