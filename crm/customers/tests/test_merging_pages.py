"""Pages of duplicates and merges: the duplicates list (scoped, tabs, dismiss), the warning on the
create and edit forms, the merge screen, the survivor's "Merged records" box and timeline, undo."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm.core.registry import platform
from crm.core.testing import make_user
from crm.customers import services
from crm.customers.merging import services as merging
from crm.customers.models import Activity, Company, Contact, DuplicateCandidate, Merge

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def me(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def stranger(roles):
    return make_user(module="customers", scope="own")


def contact(owner, first, last, **data):
    return services.contact_create(actor=owner, data={"first_name": first, "last_name": last, **data})


def pair(first, second, **fields):
    a, b = sorted([first, second], key=lambda record: record.pk)
    entity = "contact" if isinstance(first, Contact) else "company"
    return DuplicateCandidate.objects.create(
        entity=entity, **{f"{entity}_a": a, f"{entity}_b": b}, reasons=["email"], score=95, **fields
    )


def merge_url(*records, entity="contact"):
    query = "&".join(f"ids={record.pk}" for record in records)
    return f"{reverse(f'customers:{entity}_merge')}?{query}"


# --- the duplicates page ------------------------------------------------------------------------------------


def test_duplicates_page_lists_only_pairs_whose_records_the_user_sees(client, me, stranger):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    theirs = contact(stranger, "Ada", "Byron")
    shown = pair(ada, twin)
    hidden = pair(ada, theirs)
    client.force_login(me)
    response = client.get(reverse("customers:duplicate_list"))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="pair-{shown.pk}"' in page and f'id="pair-{hidden.pk}"' not in page
    assert "Ada Byron" not in page
    assert merge_url(ada, twin).replace("&", "&amp;") in page


def test_duplicates_page_empty_states_and_tabs(client, me):
    client.force_login(me)
    for tab, marker in (("contact", "duplicates-empty"), ("company", "duplicates-empty"), ("merges", "merges-empty")):
        response = client.get(reverse("customers:duplicate_list"), {"tab": tab})
        assert response.status_code == 200 and marker in response.content.decode()
    assert client.get(reverse("customers:duplicate_list"), {"tab": "nonsense", "status": "x"}).status_code == 200


def test_duplicates_page_needs_view_permission(client, roles):
    nobody = make_user(module="other")
    client.force_login(nobody)
    assert client.get(reverse("customers:duplicate_list")).status_code == 403


def test_the_nav_has_duplicates():
    assert any(item.url_name == "customers:duplicate_list" for item in platform.nav)


def test_dismiss_and_reopen(client, me, stranger):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    candidate = pair(ada, twin)
    client.force_login(me)
    response = client.post(reverse("customers:duplicate_dismiss", args=[candidate.pk]), **HTMX)
    assert response.status_code == 200 and response.content == b""
    candidate.refresh_from_db()
    assert candidate.status == "dismissed" and candidate.resolved_by == me
    listed = client.get(reverse("customers:duplicate_list"), {"status": "dismissed"}).content.decode()
    assert f'id="pair-{candidate.pk}"' in listed
    response = client.post(reverse("customers:duplicate_reopen", args=[candidate.pk]))
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == "open" and candidate.resolved_by is None
    # Someone who cannot see both records cannot touch the pair; a reader cannot dismiss.
    client.force_login(stranger)
    assert client.post(reverse("customers:duplicate_dismiss", args=[candidate.pk])).status_code == 404
    reader = make_user(module="customers", actions=("view",), scope="all")
    client.force_login(reader)
    assert client.post(reverse("customers:duplicate_dismiss", args=[candidate.pk])).status_code == 403
    assert DuplicateCandidate.objects.get(pk=candidate.pk).status == "open"


def test_duplicates_page_query_count(client, me, django_assert_max_num_queries):
    acme = services.company_create(actor=me, data={"name": "Acme"})
    for index in range(12):
        first = contact(me, "Pat", f"Doe{index}", company=acme)
        second = contact(me, "Pat", f"Doe{index}x", company=acme)
        pair(first, second)
    client.force_login(me)
    url = reverse("customers:duplicate_list")
    client.get(url)
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


# --- the warning on the forms ----------------------------------------------------------------------------------


def check(client, entity, data):
    return client.post(reverse("customers:duplicate_check", args=[entity]), data, **HTMX).content.decode()


def test_contact_form_check_warns_about_visible_duplicates_only(client, me, stranger):
    acme = services.company_create(actor=me, data={"name": "Acme"})
    ada = contact(me, "Ada", "Lovelace", company=acme, emails=[{"email": "ada@acme.test"}])
    phone_twin = contact(me, "Augusta", "King", phones=[{"number": "+8613812345678"}])
    contact(stranger, "Secret", "Person", emails=[{"email": "ada@acme.test"}])
    client.force_login(me)
    page = check(
        client,
        "contact",
        {
            "first_name": "ada",
            "last_name": "LOVELACE",
            "company": acme.pk,
            "emails-0-email": "Ada@Acme.test",
            "phones-0-number": "+86 138 1234 5678",
        },
    )
    assert "This may already be in the CRM" in page
    assert ada.get_absolute_url() in page and phone_twin.get_absolute_url() in page
    assert "same email" in page and "similar name at the same company" in page and "same phone" in page
    assert "Secret" not in page
    # Editing Ada herself: she is not her own duplicate.
    assert check(client, "contact", {"record": ada.pk, "emails-0-email": "ada@acme.test"}).strip() == ""
    assert check(client, "contact", {"first_name": "Nobody", "emails-0-email": "not an email"}).strip() == ""


def test_company_form_check(client, me):
    acme = services.company_create(actor=me, data={"name": "Acme Ltd", "website": "https://www.acme.test"})
    client.force_login(me)
    page = check(client, "company", {"name": "Other", "website": "acme.test/about"})
    assert acme.get_absolute_url() in page and "same domain" in page
    page = check(client, "company", {"name": "ACME  ltd"})
    assert acme.get_absolute_url() in page and "similar name" in page
    assert check(client, "company", {"record": acme.pk, "name": "Acme Ltd"}).strip() == ""
    assert client.post(reverse("customers:duplicate_check", args=["deal"]), {}).status_code == 404


def test_check_partial_is_an_htmx_element_inside_the_form():
    from django.template.loader import render_to_string

    html = render_to_string("customers/merging/_duplicate_check.html", {"entity": "contact", "record": None})
    assert 'hx-post="/duplicates/check/contact/"' in html and 'hx-include="closest form"' in html
    assert "from:closest form" in html and "delay:" in html
    assert '"record": ""' in html


# --- the merge screen ---------------------------------------------------------------------------------------------


def test_merge_screen_shows_the_records_side_by_side(client, me):
    acme = services.company_create(actor=me, data={"name": "Acme"})
    ada = contact(me, "Ada", "Lovelace", company=acme, emails=[{"email": "ada@acme.test"}])
    twin = contact(me, "Ada", "Lovelac", title="CTO", emails=[{"email": "ada@home.test"}])
    Activity.objects.create(kind="note", body="x", contact=twin, owner=me)
    client.force_login(me)
    response = client.get(merge_url(ada, twin))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="survivor"' in page and f'name="version-{ada.pk}"' in page
    assert 'name="choice-name"' in page and 'name="choice-title"' in page
    assert 'name="choice-lifecycle_stage"' not in page  # the same in both: nothing to pick
    assert "ada@acme.test" in page and "ada@home.test" in page
    assert "1 activity" in page


def test_merge_through_the_page(client, me):
    ada = contact(me, "Ada", "Lovelace", emails=[{"email": "ada@acme.test"}])
    twin = contact(me, "Ada", "Lovelac", title="CTO", emails=[{"email": "ada@home.test"}])
    client.force_login(me)
    response = client.post(
        reverse("customers:contact_merge"),
        {
            "ids": [ada.pk, twin.pk],
            "survivor": twin.pk,
            "choice-name": ada.pk,
            "choice-title": twin.pk,
            "choice-email": ada.pk,
            f"version-{ada.pk}": ada.version,
            f"version-{twin.pk}": twin.version,
        },
    )
    assert response.status_code == 302 and response["Location"] == twin.get_absolute_url()
    twin.refresh_from_db()
    assert not Contact.objects.filter(pk=ada.pk).exists()
    assert (twin.name, twin.title, twin.email) == ("Ada Lovelace", "CTO", "ada@acme.test")
    page = client.get(twin.get_absolute_url()).content.decode()
    assert "Merged 2 records" in page and 'data-testid="undo-merge"' in page
    merge = Merge.objects.get()
    response = client.post(reverse("customers:merge_undo", args=[merge.pk]), {"next": twin.get_absolute_url()})
    assert response.status_code == 302
    assert Contact.objects.filter(pk=ada.pk).exists()
    assert "The merge was undone" in client.get(twin.get_absolute_url()).content.decode()


def test_custom_fields_are_labelled_on_the_merge_screen(client, me, admin_user):
    from crm.customers.custom_fields import services as definitions

    definitions.custom_field_create(
        actor=admin_user, entity="contact", key="language", label="Preferred language", kind="text"
    )
    ada = contact(me, "Ada", "Lovelace", custom={"language": "English"})
    twin = contact(me, "Ada", "Lovelac", custom={"language": "Deutsch"})
    client.force_login(me)
    page = client.get(merge_url(ada, twin)).content.decode()
    assert "Preferred language" in page and "Deutsch" in page
    assert ">language</th>" not in page  # the key itself is no label


def test_stale_merge_screen_is_refused(client, me):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    client.force_login(me)
    data = {
        "ids": [ada.pk, twin.pk],
        "survivor": ada.pk,
        "choice-name": ada.pk,
        f"version-{ada.pk}": ada.version,
        f"version-{twin.pk}": twin.version,
    }
    services.contact_update(actor=me, contact=twin, data={"title": "CEO"}, version=twin.version)
    response = client.post(reverse("customers:contact_merge"), data)
    assert response.status_code == 409 and "Reload the current versions" in response.content.decode()
    assert Contact.objects.filter(pk=twin.pk).exists() and not Merge.objects.exists()


def test_merge_screen_refusals(client, me, stranger):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    theirs = contact(stranger, "Ada", "Byron")
    client.force_login(me)
    assert client.get(merge_url(ada, theirs)).status_code == 404
    assert (
        client.post(reverse("customers:contact_merge"), {"ids": [ada.pk, theirs.pk], "survivor": ada.pk}).status_code
        == 404
    )
    assert client.get(merge_url(ada)).status_code == 400
    assert client.get(merge_url(ada, ada)).status_code == 400
    assert client.get(f"{reverse('customers:contact_merge')}?ids=x&ids=1").status_code == 400
    assert client.get(reverse("customers:contact_merge")).status_code == 400
    assert client.get(merge_url(ada, Contact(pk=999_999))).status_code == 404
    editor = make_user(module="customers", actions=("view", "create", "edit"), scope="all")
    client.force_login(editor)
    assert client.get(merge_url(ada, twin)).status_code == 403
    response = client.post(
        reverse("customers:contact_merge"),
        {"ids": [ada.pk, twin.pk], "survivor": ada.pk, f"version-{ada.pk}": 1, f"version-{twin.pk}": 1},
    )
    assert response.status_code == 403
    assert Contact.objects.filter(pk__in=[ada.pk, twin.pk, theirs.pk]).count() == 3


def test_undo_of_someone_elses_merge_is_refused(client, me, roles):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    merge = merging.contact_merge(actor=me, ids=[ada.pk, twin.pk], survivor_id=ada.pk)
    colleague = make_user(module="customers", scope="all")
    client.force_login(colleague)
    assert client.post(reverse("customers:merge_undo", args=[merge.pk])).status_code == 403
    stranger = make_user(module="customers", scope="own")
    client.force_login(stranger)
    assert client.post(reverse("customers:merge_undo", args=[merge.pk])).status_code == 404
    assert Merge.objects.get(pk=merge.pk).undone_at is None


def test_company_merge_page(client, me):
    acme = services.company_create(actor=me, data={"name": "Acme", "website": "https://acme.test"})
    acme_inc = services.company_create(actor=me, data={"name": "ACME Inc", "industry": "Retail"})
    client.force_login(me)
    page = client.get(merge_url(acme, acme_inc, entity="company")).content.decode()
    assert 'name="choice-name"' in page and "Retail" in page
    response = client.post(
        reverse("customers:company_merge"),
        {
            "ids": [acme.pk, acme_inc.pk],
            "survivor": acme.pk,
            "choice-name": acme_inc.pk,
            f"version-{acme.pk}": acme.version,
            f"version-{acme_inc.pk}": acme_inc.version,
        },
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.name == "ACME Inc" and acme.industry == "Retail"
    assert not Company.objects.filter(pk=acme_inc.pk).exists()


# --- history on the survivor -------------------------------------------------------------------------------------


def test_survivor_timeline_shows_the_merge_and_the_merged_records_history(client, me):
    ada = contact(me, "Ada", "Lovelace")
    twin = contact(me, "Ada", "Lovelac")
    services.contact_update(actor=me, contact=twin, data={"title": "CTO"}, version=twin.version)
    merge = merging.contact_merge(actor=me, ids=[ada.pk, twin.pk], survivor_id=ada.pk)
    client.force_login(me)
    timeline = reverse("customers:contact_timeline", args=[ada.pk])
    page = client.get(timeline, **HTMX).content.decode()
    assert "Merged from Ada Lovelac" in page
    assert len(re.findall(r"merged record: Ada Lovelac", page)) == 3  # created, changed, deleted
    only = client.get(timeline, {"type": "merge"}, **HTMX).content.decode()
    assert only.count('data-testid="timeline-item"') == 4
    merging.merge_undo(actor=me, merge=merge)
    page = client.get(timeline, **HTMX).content.decode()
    assert "Merged from Ada Lovelac" in page and "merged record:" not in page


def test_timeline_pages_through_merged_history_without_gaps(client, me):
    ada = contact(me, "Ada", "Lovelace")
    twin = contact(me, "Ada", "Lovelac")
    for index in range(25):
        twin.refresh_from_db()
        services.contact_update(actor=me, contact=twin, data={"title": f"T{index}"}, version=twin.version)
    merging.contact_merge(actor=me, ids=[ada.pk, twin.pk], survivor_id=ada.pk)
    client.force_login(me)
    url = reverse("customers:contact_timeline", args=[ada.pk])
    seen, query = [], {"type": "merge"}
    for _page in range(5):
        page = client.get(url, query, **HTMX).content.decode()
        seen += re.findall(r'id="(merged-change-\d+|merge-\d+)"', page)
        cursor = re.search(r"after=([\w-]+)", page)
        if not cursor:
            break
        query = {"type": "merge", "after": cursor.group(1)}
    assert len(seen) == len(set(seen)) == 1 + 1 + 25 + 1  # the merge; created, 25 changes, deleted


def test_merge_history_tab(client, me, stranger):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    merging.contact_merge(actor=me, ids=[ada.pk, twin.pk], survivor_id=ada.pk)
    client.force_login(me)
    page = client.get(reverse("customers:duplicate_list"), {"tab": "merges"}).content.decode()
    assert "Ada Lovelac" in page and 'data-testid="merge-row"' in page and "Undo" in page
    client.force_login(stranger)
    page = client.get(reverse("customers:duplicate_list"), {"tab": "merges"}).content.decode()
    assert 'data-testid="merge-row"' not in page


def test_merge_history_and_panel_query_counts(client, me, django_assert_max_num_queries):
    keeper = contact(me, "Ada", "Lovelace")
    for index in range(8):
        first, second = contact(me, "Pat", f"Doe{index}"), contact(me, "Pat", f"Roe{index}")
        merging.contact_merge(actor=me, ids=[first.pk, second.pk], survivor_id=first.pk)
        other = contact(me, "Ada", f"L{index}")
        merging.contact_merge(actor=me, ids=[keeper.pk, other.pk], survivor_id=keeper.pk)
    client.force_login(me)
    url = f"{reverse('customers:duplicate_list')}?tab=merges"
    client.get(url)
    with django_assert_max_num_queries(12):
        page = client.get(url).content.decode()
    assert page.count('data-testid="merge-row"') == 16
    from crm.customers.merging.panels import merges_context

    with django_assert_max_num_queries(4):
        context = merges_context(user=me, obj=keeper)
    assert len(context["merge_rows"]) == 5 and all(row["can_undo"] for row in context["merge_rows"])
    assert merges_context(user=me, obj=contact(me, "No", "Merges")) is None


def test_the_lists_bulk_selection_opens_the_merge_screen(client, me):
    ada, twin = contact(me, "Ada", "Lovelace"), contact(me, "Ada", "Lovelac")
    client.force_login(me)
    response = client.post(reverse("customers:contact_merge"), {"ids": [ada.pk, twin.pk], "action": ""})
    assert response.status_code == 302 and response["Location"] == merge_url(ada, twin)
    assert Contact.objects.filter(pk__in=[ada.pk, twin.pk]).count() == 2


def test_the_duplicates_page_shows_phone_numbers_formatted(client, me):
    ada = contact(me, "Ada", "Lovelace", phones=[{"number": "+1 617 555 0100"}])
    twin = contact(me, "Ada", "Lovelac", phones=[{"number": "+16175550100"}])
    pair(ada, twin)
    client.force_login(me)
    page = client.get(reverse("customers:duplicate_list")).content.decode()
    assert page.count('href="tel:+16175550100"') == 2 and "+1 617-555-0100" in page
    assert ">+16175550100<" not in page
