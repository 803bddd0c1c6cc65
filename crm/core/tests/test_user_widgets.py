"""The people pickers (crm.core.widgets.UserSelect / UserSelectMultiple): they render only the chosen
people, in at most one small query, and the form still accepts any active user and refuses the rest."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.utils import translation

from crm.accounts.tests.factories import UserFactory
from crm.core.widgets import AutocompleteSelect, UserSelect, UserSelectMultiple

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Widgets render in the active language: English here, whatever an earlier test left active."""
    with translation.override("en"):
        yield


def active_users():
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class PickForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody", widget=UserSelect)
    helpers = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=UserSelectMultiple)
    lead = forms.ModelChoiceField(queryset=None, widget=UserSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("owner", "helpers", "lead"):
            self.fields[name].queryset = active_users()


@pytest.fixture
def people(db):
    return [UserFactory(first_name="Person", last_name=f"{index:03d}") for index in range(40)]


def hidden_values(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)


def test_nothing_chosen_renders_without_a_query(people, django_assert_num_queries):
    form = PickForm()
    with django_assert_num_queries(0):
        html = str(form["owner"]) + str(form["helpers"]) + str(form["lead"])
    assert "<option" not in html
    assert hidden_values(html, "owner") == [""]
    assert hidden_values(html, "helpers") == []
    assert 'data-autocomplete-input hx-get="/people/autocomplete/"' in html
    assert "Person 001" not in html


def test_the_chosen_person_is_rendered_from_one_small_query(people, django_assert_num_queries):
    chosen = people[7]
    form = PickForm(initial={"owner": chosen})
    with django_assert_num_queries(1) as captured:
        html = str(form["owner"])
    assert "IN" in captured.captured_queries[0]["sql"].upper()
    assert hidden_values(html, "owner") == [str(chosen.pk)]
    assert f'data-label="{chosen}"' in html and f'value="{chosen}" id="id_owner_search"' in html
    # Only the chosen person, none of the forty others.
    assert sum(html.count(str(person)) for person in people if person != chosen) == 0
    # Not required: a clear button; the empty choice reads as the placeholder.
    assert "data-autocomplete-clear" in html and 'placeholder="Nobody"' in html


def test_several_chosen_people_render_as_chips_in_order(people, django_assert_num_queries):
    first, second = people[30], people[2]
    form = PickForm(initial={"helpers": [first, second]})
    with django_assert_num_queries(1):
        html = str(form["helpers"])
    assert hidden_values(html, "helpers") == [str(first.pk), str(second.pk)]
    assert html.count("data-autocomplete-chip>") == 2 and 'data-autocomplete-multiple="helpers"' in html
    assert f"Remove {first}" in html
    assert (
        'id="id_helpers_search"' in html
        and 'value=""' in html.split('id="id_helpers_search"')[0].rsplit("<input", 1)[1]
    )


def test_a_required_picker_has_no_clear_button_nor_required_attribute(people):
    html = str(PickForm()["lead"])
    assert "data-autocomplete-clear" not in html and " required" not in html


def test_labels_point_at_the_text_box(people):
    form = PickForm()
    assert 'for="id_owner_search"' in form["owner"].label_tag()
    assert form["helpers"].id_for_label == "id_helpers_search"


def test_any_active_user_is_accepted_though_never_rendered(people):
    form = PickForm(
        {"owner": str(people[39].pk), "helpers": [str(people[0].pk), str(people[1].pk)], "lead": people[5].pk}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["owner"] == people[39]
    assert list(form.cleaned_data["helpers"]) == [people[0], people[1]]


@pytest.mark.parametrize("bad", ["abc", "999999", "-1", "1.5", "1e3", " "])
def test_a_value_that_is_not_an_active_user_is_refused_and_nothing_breaks(people, bad):
    form = PickForm({"owner": bad, "helpers": [bad], "lead": bad})
    assert not form.is_valid()
    assert {"owner", "helpers", "lead"} <= set(form.errors)
    html = str(form["owner"]) + str(form["helpers"]) + str(form["lead"])
    assert hidden_values(html, "owner") == [""] and hidden_values(html, "helpers") == []


def test_an_inactive_user_is_refused(people):
    gone = UserFactory(is_active=False)
    form = PickForm({"owner": gone.pk, "helpers": [gone.pk], "lead": people[0].pk})
    assert not form.is_valid() and set(form.errors) == {"owner", "helpers"}


def test_no_chip_left_means_nobody(people):
    form = PickForm({"lead": people[0].pk})
    assert form.is_valid()
    assert list(form.cleaned_data["helpers"]) == [] and form.cleaned_data["owner"] is None
    assert not UserSelectMultiple().value_omitted_from_data({}, {}, "helpers")


def test_a_sent_form_shows_the_people_it_was_sent_with(people):
    form = PickForm({"owner": people[3].pk, "helpers": [people[4].pk, "junk"], "lead": ""})
    assert not form.is_valid()
    html = str(form["owner"]) + str(form["helpers"])
    assert hidden_values(html, "owner") == [str(people[3].pk)]
    assert hidden_values(html, "helpers") == [str(people[4].pk)]


def test_other_attributes_reach_the_text_box(people):
    widget = UserSelect(attrs={"aria-label": "Owner", "class": "form-select crm-filter", "placeholder": "Any owner"})
    field = forms.ModelChoiceField(queryset=active_users(), required=False, widget=widget)
    html = field.widget.render("owner", None, attrs={"id": "f_owner"})
    text_box = html.split('id="f_owner_search"')[1].split(">")[0]
    assert 'aria-label="Owner"' in text_box and 'placeholder="Any owner"' in text_box
    assert 'class="form-select crm-filter"' in html and 'hx-target="#f_owner_results"' in html


def test_a_fixed_list_of_choices_needs_no_query(django_assert_num_queries):
    widget = AutocompleteSelect(choices=[("a", "Alpha"), ("b", "Beta")], url_name="accounts:user_autocomplete")
    with django_assert_num_queries(0):
        html = widget.render("letter", "b", attrs={"id": "id_letter"})
    assert 'value="b"' in html and 'data-label="Beta"' in html and "Alpha" not in html


def test_activity_and_task_forms_pick_people_with_the_pickers(roles, people, django_assert_num_queries):
    from crm.core.testing import make_user
    from crm.customers.activities.forms import ActivityForm, TaskForm

    rep = make_user(module="customers")
    task_form = TaskForm(user=rep, initial={"assignee": people[1]})
    meeting_form = ActivityForm(user=rep, kind="meeting", initial={"attendees": [people[2], people[3]]})
    assert isinstance(task_form.fields["assignee"].widget, UserSelect)
    assert isinstance(meeting_form.fields["attendees"].widget, UserSelectMultiple)
    with django_assert_num_queries(1):
        assignee = str(task_form["assignee"])
    with django_assert_num_queries(1):
        attendees = str(meeting_form["attendees"])
    assert hidden_values(assignee, "assignee") == [str(people[1].pk)]
    assert hidden_values(attendees, "attendees") == [str(people[2].pk), str(people[3].pk)]
    assert "Person 010" not in assignee + attendees
    # Anyone active can still be chosen.
    assert TaskForm({"title": "Call back", "priority": "normal", "assignee": people[39].pk}, user=rep).is_valid()
