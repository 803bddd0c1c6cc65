"""Saved views (crm/core/saved_views): who sees which view, what a view keeps, and what is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.accounts.tests.factories import TeamFactory
from crm.core.models import SavedView
from crm.core.saved_views import selectors, services
from crm.core.saved_views.queries import clean_query, comparable_query, normalize_query
from crm.core.saved_views.registry import columns_session_key, get_list, list_for_url_name, register_list
from crm.core.testing import journal_entries, make_user

pytestmark = pytest.mark.django_db

CONTACTS = "customers.contact"


@pytest.fixture
def rep(roles):
    return make_user(module="customers", scope="own", username="rep")


@pytest.fixture
def team_a(rep):
    return TeamFactory(name="Team A", members=[rep])


def create(actor, name="Hot leads", **extra):
    return services.saved_view_create(actor=actor, list_key=CONTACTS, name=name, **extra)


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


# --- the registry ----------------------------------------------------------------------------------


def test_the_customer_lists_are_registered():
    contacts, companies = get_list("customers.contact"), get_list("customers.company")
    assert contacts.url() == "/contacts/" and companies.url() == "/companies/"
    assert {"q", "owner", "lifecycle_stage", "tag", "sort"} <= contacts.filter_names()
    assert "after" not in contacts.filter_names() and "parent" in companies.filter_names()
    assert {"email", "owner", "tags"} <= set(contacts.column_keys())
    assert contacts.default_column_keys == ("email", "phone", "company", "lifecycle_stage", "owner")
    assert get_list("nothing.here") is None and get_list(None) is None
    assert list_for_url_name("customers:company_list") is companies and list_for_url_name("core:search") is None


def test_the_columns_session_key_is_the_lists_own():
    from crm.customers.views.listing import session_key

    assert columns_session_key("customers.contact") == session_key("contact") == "customers.columns.contact"
    assert columns_session_key("customers.company") == session_key("company")


def test_a_list_registers_itself():
    spec = register_list(
        "tests.gadget", url_name="customers:contact_list", module="customers", filterset=None, columns=["a", "b"]
    )
    assert get_list("tests.gadget") is spec and spec.column_keys() == ("a", "b")
    assert spec.filter_names() == frozenset({"sort"})


# --- what a view keeps -----------------------------------------------------------------------------


def test_the_query_keeps_only_the_lists_parameters_in_a_stable_order():
    spec = get_list(CONTACTS)
    raw = "?sort=-updated&owner=3&after=abc&before=x&page=2&q=+ada+&unknown=1&lifecycle_stage=&tag=4&tag=2"
    assert normalize_query(spec, raw) == "owner=3&q=ada&sort=-updated&tag=4&tag=2"
    # The default sort is the same as no sort.
    assert normalize_query(spec, "sort=name&owner=3") == "owner=3"
    assert comparable_query(spec, [("sort", "name"), ("owner", "3"), ("after", "x")]) == "owner=3"


def test_a_query_too_long_or_with_a_nul_byte_is_refused():
    spec = get_list(CONTACTS)
    assert "query" in errors_of(lambda: clean_query(spec, "q=" + "a" * 2001))
    assert "query" in errors_of(lambda: clean_query(spec, "q=ada%00"))
    assert "query" in errors_of(lambda: clean_query(spec, "x=" + "a" * 10_000))
    # Unknown parameters do not count: they are dropped first.
    assert clean_query(spec, "junk=" + "a" * 3000 + "&q=ada") == "q=ada"


def test_saving_keeps_filters_sort_and_columns(rep):
    view = create(rep, query="lifecycle_stage=lead&sort=-updated&after=xyz&bogus=1", columns=["tags", "email", "nope"])
    view.refresh_from_db()
    assert (view.owner, view.list_key, view.team) == (rep, CONTACTS, None)
    assert view.query == "lifecycle_stage=lead&sort=-updated"
    assert view.columns == ["email", "tags"]  # in the list's order, unknown keys dropped
    assert journal_entries(view).last().action == "create"


def test_no_column_choice_saves_the_default_columns(rep):
    assert create(rep, columns=None).columns == ["email", "phone", "company", "lifecycle_stage", "owner"]
    assert create(rep, name="Bare", columns=[]).columns == []


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Give the view a name."), ("   ", "Give the view a name."), ("x" * 81, "80 characters")],
)
def test_a_name_is_required_and_short(rep, name, message):
    assert message in " ".join(errors_of(lambda: create(rep, name=name))["name"])
    assert not SavedView.objects.exists()


def test_names_are_unique_per_person_and_list(rep, roles):
    create(rep, name="Hot leads")
    assert "already have a view" in errors_of(lambda: create(rep, name="  hot   LEADS "))["name"][0]
    assert SavedView.objects.count() == 1
    # Another list, or another person, may use the name.
    services.saved_view_create(actor=rep, list_key="customers.company", name="Hot leads")
    create(make_user(module="customers"), name="Hot leads")
    assert SavedView.objects.count() == 3


def test_eighty_characters_are_fine(rep):
    assert len(create(rep, name="é" * 80).name) == 80


def test_a_view_is_shared_only_with_a_team_of_ones_own(rep, team_a):
    other_team = TeamFactory(name="Team B")
    assert "team" in errors_of(lambda: create(rep, team=other_team))
    assert "team" in errors_of(lambda: create(rep, team="not a number"))
    assert "team" in errors_of(lambda: create(rep, team=999_999))
    assert not SavedView.objects.exists()
    assert create(rep, team=team_a.pk).team == team_a


def test_every_error_is_told_at_once(rep):
    errors = errors_of(lambda: create(rep, name="", team=123456, query="q=" + "a" * 2100))
    assert set(errors) == {"name", "team", "query"}


def test_an_unknown_list_or_a_module_without_permission_is_refused(rep, roles):
    assert "list_key" in errors_of(lambda: services.saved_view_create(actor=rep, list_key="x.y", name="A"))
    outsider = make_user(module="nothing", actions=())
    with pytest.raises(PermissionDenied):
        create(outsider)
    assert not SavedView.objects.exists()


# --- who sees a view -------------------------------------------------------------------------------


def test_a_view_shared_with_team_a_is_seen_by_team_a_only(rep, team_a, roles):
    mate, stranger = make_user(module="customers"), make_user(module="customers")
    team_a.members.add(mate)
    TeamFactory(name="Team B", members=[stranger])
    shared = create(rep, name="Team pipeline", team=team_a)
    private = create(rep, name="Mine only")

    assert list(selectors.saved_view_list(user=rep, list_key=CONTACTS)) == [private, shared]
    assert list(selectors.saved_view_list(user=mate, list_key=CONTACTS)) == [shared]
    assert list(selectors.saved_view_list(user=stranger, list_key=CONTACTS)) == []
    assert selectors.saved_view_get(user=mate, pk=shared.pk) == shared
    assert selectors.saved_view_get(user=mate, pk=private.pk) is None
    assert selectors.saved_view_get(user=stranger, pk=shared.pk) is None
    assert selectors.saved_view_get(user=mate, pk="nope") is None
    # Only the owner may change it.
    assert list(selectors.saved_view_owned(user=mate)) == []


def test_own_views_come_before_shared_ones(rep, team_a, roles):
    mate = make_user(module="customers")
    team_a.members.add(mate)
    theirs = create(mate, name="A shared by a colleague", team=team_a)
    mine = create(rep, name="Z mine")
    assert list(selectors.saved_view_list(user=rep, list_key=CONTACTS)) == [mine, theirs]
    assert list(selectors.saved_view_list(user=rep, list_key="customers.company")) == []


def test_leaving_the_team_hides_its_views(rep, team_a, roles):
    mate = make_user(module="customers")
    team_a.members.add(mate)
    shared = create(rep, team=team_a)
    team_a.members.remove(mate)
    mate = type(mate).objects.get(pk=mate.pk)  # team ids are remembered per user object
    assert selectors.saved_view_get(user=mate, pk=shared.pk) is None


# --- changing and deleting -------------------------------------------------------------------------


def test_the_owner_renames_shares_and_unshares(rep, team_a):
    view = create(rep)
    services.saved_view_update(actor=rep, saved_view=view, name="Warm leads", team=team_a)
    view.refresh_from_db()
    assert (view.name, view.team) == ("Warm leads", team_a)
    services.saved_view_update(actor=rep, saved_view=view, name="Warm leads", team=None)
    view.refresh_from_db()
    assert view.team is None
    assert [entry.action for entry in journal_entries(view)] == ["create", "update", "update"]


def test_renaming_checks_like_saving(rep, team_a):
    create(rep, name="Taken")
    view = create(rep, name="Mine")
    assert "name" in errors_of(lambda: services.saved_view_update(actor=rep, saved_view=view, name="taken"))
    assert "team" in errors_of(
        lambda: services.saved_view_update(actor=rep, saved_view=view, name="Mine", team=TeamFactory())
    )
    # Its own name again is fine.
    services.saved_view_update(actor=rep, saved_view=view, name="MINE")
    view.refresh_from_db()
    assert view.name == "MINE"


def test_only_the_owner_changes_or_deletes(rep, team_a, roles):
    mate = make_user(module="customers")
    team_a.members.add(mate)
    view = create(rep, team=team_a)
    with pytest.raises(PermissionDenied):
        services.saved_view_update(actor=mate, saved_view=view, name="Hijacked")
    with pytest.raises(PermissionDenied):
        services.saved_view_delete(actor=mate, saved_view=view)
    view.refresh_from_db()
    assert view.name == "Hot leads"
    pk = view.pk
    services.saved_view_delete(actor=rep, saved_view=view)
    assert not SavedView.objects.exists()
    view.pk = pk
    assert journal_entries(view).last().action == "delete"


# --- applying --------------------------------------------------------------------------------------


def test_applying_gives_the_lists_address_and_sets_the_columns(rep):
    view = create(rep, query="lifecycle_stage=customer&sort=-updated", columns=["city", "email"])
    session: dict = {}
    url = services.saved_view_apply(user=rep, saved_view=view, session=session)
    assert url == "/contacts/?lifecycle_stage=customer&sort=-updated"
    assert session == {"customers.columns.contact": ["email", "city"]}


def test_applying_a_view_without_filters_opens_the_plain_list(rep):
    view = create(rep, query="", columns=[])
    session = {"customers.columns.contact": ["email"]}
    assert services.saved_view_apply(user=rep, saved_view=view, session=session) == "/contacts/"
    assert session["customers.columns.contact"] == []


def test_filters_and_columns_a_list_adds_when_it_is_built_are_kept():
    import django_filters

    from crm.core.models import JournalEntry

    class GadgetFilterSet(django_filters.FilterSet):
        action = django_filters.CharFilter()

        class Meta:
            model = JournalEntry
            fields = ["action"]

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.filters["cf_colour"] = django_filters.CharFilter(field_name="source")  # e.g. a custom field

    class GadgetListView:
        filterset_class = GadgetFilterSet
        columns = ("name",)
        default_columns = ("name",)

        def all_columns(self):
            return (*self.columns, "cf_colour")

    spec = register_list("tests.gadgets", url_name="customers:contact_list", module="customers", view=GadgetListView)
    assert spec.filter_names() == frozenset({"action", "cf_colour", "sort"})
    assert spec.column_keys() == ("name", "cf_colour")
    assert normalize_query(spec, "cf_colour=red&other=1&action=create") == "action=create&cf_colour=red"
