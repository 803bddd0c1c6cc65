"""A person attaches files to a contact in the browser: several at once, a refused one explained, an
image shown in a modal, a file deleted after confirming."""

from __future__ import annotations

import pytest

from crm.accounts.tests.factories import UserFactory
from crm.core.testing import browser_sign_in
from crm.core.tests import attachment_samples as samples

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_attach_preview_refuse_and_delete(live_server, page, settings, tmp_path):
    from crm.accounts.models import Role
    from crm.accounts.services import roles_sync_builtin
    from crm.core.models import Attachment
    from crm.customers.models import Contact

    settings.MEDIA_ROOT = tmp_path / "media"
    roles_sync_builtin()
    user = UserFactory(username="lin", role=Role.objects.get(builtin="sales_rep"))
    contact = Contact.objects.create(first_name="Ada", owner=user)
    files = tmp_path / "files"
    files.mkdir()
    (files / "logo.png").write_bytes(samples.png(40, 30))
    (files / "offer.pdf").write_bytes(samples.pdf())
    (files / "cat.png").write_bytes(samples.HTML)

    browser_sign_in(page, live_server, "lin")
    page.goto(f"{live_server.url}{contact.get_absolute_url()}")
    panel = page.locator("[data-testid=attachments-panel]")
    assert "No files yet." in panel.inner_text()

    panel.locator("input[type=file]").set_input_files([str(files / "logo.png"), str(files / "offer.pdf")])
    panel.locator("[data-testid=attachments-upload] button[type=submit]").click()
    page.wait_for_selector("[data-testid=attachment-row] >> nth=1")
    assert "2 files attached." in panel.inner_text()
    assert page.url.endswith(contact.get_absolute_url())  # htmx swapped the panel, the page stayed

    panel.locator("input[type=file]").set_input_files([str(files / "cat.png")])
    panel.locator("[data-testid=attachments-upload] button[type=submit]").click()
    errors = page.locator("[data-testid=attachments-errors]")
    errors.wait_for()
    assert "“cat.png” says it is a PNG image but its content is an HTML page." in errors.inner_text()
    assert Attachment.objects.count() == 2

    panel.get_by_role("link", name="logo.png", exact=True).click()
    modal = page.locator(".modal.show")
    modal.wait_for()
    image = modal.locator("img")
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth === 40", arg=image.element_handle())
    modal.locator("[data-bs-dismiss=modal]").click()
    modal.wait_for(state="detached")

    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Delete offer.pdf").click()
    page.wait_for_function("() => !document.body.innerText.includes('offer.pdf')")
    assert list(Attachment.objects.values_list("name", flat=True)) == ["logo.png"]
