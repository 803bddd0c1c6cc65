"""The typed values of custom fields (crm/customers/custom_fields/values.py): one cleaner for services,
forms, the API and imports, each kind stored in one canonical JSON form, and shown per kind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from crm.customers.custom_fields.values import (
    clean_value,
    clean_values,
    display,
    missing_required,
    to_export,
    to_form,
    to_text,
    with_defaults,
)
from crm.customers.models import CustomField


def field(kind: str, key: str = "f", **kwargs) -> CustomField:
    return CustomField(entity="contact", key=key, label=kwargs.pop("label", key.title()), kind=kind, **kwargs)


def error_of(definition, value) -> str:
    with pytest.raises(ValidationError) as caught:
        clean_value(definition, value)
    return " ".join(caught.value.messages)


# --- canonical forms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("text", "  Gold member ", "Gold member"),
        ("long_text", "line one\r\nline two", "line one\nline two"),
        ("number", "42", 42),
        ("number", 42.0, 42),
        ("number", "-1234.5", -1234.5),
        ("number", Decimal("0.125"), 0.125),
        ("number", "1e3", 1000),
        ("money", "19.90", 19.9),
        ("money", "1,234,567.89", 1234567.89),
        ("money", 20, 20),
        ("money", "1234567890123.99", 1234567890123.99),
        ("date", "2026-03-31", "2026-03-31"),
        ("date", dt.date(2026, 3, 31), "2026-03-31"),
        ("boolean", True, True),
        ("boolean", "yes", True),
        ("boolean", "否", False),
        ("boolean", "No", False),
        ("boolean", 0, False),
        ("url", "example.com/path", "https://example.com/path"),
        ("url", "http://example.com", "http://example.com"),
        ("email", " Ada@Example.COM ", "ada@example.com"),
        ("phone", "+86 138-1234-5678", "+8613812345678"),
    ],
)
def test_each_kind_has_one_canonical_json_form(kind, raw, stored):
    value = clean_value(field(kind), raw)
    assert value == stored and type(value) is type(stored)


def test_money_keeps_cents_exactly_through_json():
    money = field("money")
    stored = clean_value(money, "0.10")
    assert to_text(money, stored) == "0.10"
    assert to_export(money, clean_value(money, "1234567890123.99")) == Decimal("1234567890123.99")


def test_choices_match_exactly_or_ignoring_case_and_keep_the_definitions_spelling():
    one = field("choice", choices=["English", "中文", "Deutsch"])
    assert clean_value(one, "english") == "English"
    assert clean_value(one, "中文") == "中文"
    several = field("multi_choice", choices=["Red", "Green", "Blue"])
    assert clean_value(several, ["blue", "Red", "red"]) == ["Red", "Blue"]  # the choices' order, once each
    assert clean_value(several, "Green; blue") == ["Green", "Blue"]


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("text", 12, "Enter text."),
        ("text", "two\nlines", "single line"),
        ("text", "x" * 256, "at most 255 characters"),
        ("number", "twelve", "“twelve” is not a number."),
        ("number", "1,5", "“1,5” is not a number."),
        ("number", True, "not yes or no"),
        ("number", "NaN", "not a number"),
        ("number", [1], "Enter a number."),
        ("number", "1234567890123456", "too large"),
        ("number", "1.2345678901234567", "15 significant digits"),
        ("money", "9.999", "at most 2 decimal places"),
        ("money", "10000000000000", "too large"),
        ("date", "31/03/2026", "YYYY-MM-DD"),
        ("date", "2026-02-30", "not a date"),
        ("date", "2026-W13-1", "not a date"),
        ("date", dt.datetime(2026, 3, 31, 12, 0), "without a time"),
        ("boolean", "maybe", "neither yes nor no"),
        ("boolean", 2, "Choose yes or no."),
        ("url", "javascript:alert(1)", "not a web address"),
        ("url", "ftp://example.com", "not a web address"),
        ("email", "not-an-email", "not a valid email address"),
        ("phone", "12", "not a valid phone number"),
        ("phone", 8613812345678, "as text"),
    ],
)
def test_a_value_of_the_wrong_type_gets_a_clear_message(kind, value, message):
    assert message in error_of(field(kind), value)


def test_a_choice_not_in_the_list_names_the_choices():
    one = field("choice", choices=["English", "中文"])
    assert error_of(one, "French") == "“French” is not one of the choices: “English”, “中文”."
    several = field("multi_choice", choices=["Red", "Blue"])
    assert "“Green” is not one of the choices" in error_of(several, ["Red", "Green"])
    assert "list of texts" in error_of(several, {"Red": True})


# --- a record's values ---------------------------------------------------------------------------------------


@pytest.fixture
def definitions():
    return [
        field("text", "nickname"),
        field("number", "budget", required=True),
        field("choice", "language", choices=["English", "中文"], default="English"),
        field("boolean", "newsletter", default=False),
    ]


def test_create_applies_defaults_and_requires_required_fields(definitions):
    assert clean_values(definitions, {"budget": "10"}, creating=True) == {
        "budget": 10,
        "language": "English",
        "newsletter": False,
    }
    with pytest.raises(ValidationError) as caught:
        clean_values(definitions, {"nickname": "Ada"}, creating=True)
    assert caught.value.message_dict == {"budget": ["This field is required."]}


def test_a_default_emptied_on_create_stays_empty(definitions):
    assert clean_values(definitions, {"budget": 1, "language": None}, creating=True) == {
        "budget": 1,
        "newsletter": False,
    }


def test_update_merges_and_an_empty_value_removes_the_key(definitions):
    current = {"nickname": "Ada", "budget": 5, "old_inactive_field": "kept"}
    assert clean_values(definitions, {"nickname": "", "language": "中文"}, current=current) == {
        "budget": 5,
        "language": "中文",
        "old_inactive_field": "kept",
    }


def test_every_problem_is_reported_by_key_and_nothing_is_half_applied(definitions):
    current = {"budget": 5}
    with pytest.raises(ValidationError) as caught:
        clean_values(
            definitions, {"budget": "lots", "language": "French", "shoe_size": 38, "nickname": "ok"}, current=current
        )
    errors = caught.value.message_dict
    assert set(errors) == {"budget", "language", "shoe_size"}
    assert errors["shoe_size"] == ["There is no custom field with this key."]
    assert current == {"budget": 5}


def test_clearing_a_required_field_is_refused(definitions):
    with pytest.raises(ValidationError) as caught:
        clean_values(definitions, {"budget": None}, current={"budget": 5})
    assert caught.value.message_dict == {"budget": ["This field is required."]}


def test_values_must_come_as_an_object(definitions):
    with pytest.raises(ValidationError) as caught:
        clean_values(definitions, ["budget", 5])
    assert not hasattr(caught.value, "error_dict")


def test_defaults_and_required_for_imports(definitions):
    assert with_defaults(definitions, {"budget": 3}) == {"budget": 3, "language": "English", "newsletter": False}
    assert [d.key for d in missing_required(definitions, {"language": "English"})] == ["budget"]


# --- showing values -------------------------------------------------------------------------------------------


def test_values_are_shown_per_kind_in_the_current_language():
    with translation.override("en"):
        assert display(field("money"), 1234.5).text == "1,234.50"
        assert display(field("number"), 1234567).text == "1,234,567"
        assert display(field("boolean"), True).text == "Yes"
        assert display(field("date"), "2026-03-31").text == "March 31, 2026"
        assert display(field("multi_choice", choices=["a", "b"]), ["a", "b"]).text == "a, b"
    with translation.override("zh-hans"):
        assert display(field("boolean"), False).text == "否"
        assert display(field("date"), "2026-03-31").text == "2026年3月31日"
    phone = display(field("phone"), "+8613812345678")
    assert phone.href == "tel:+8613812345678" and phone.text == "+86 138 1234 5678"
    assert display(field("email"), "a@example.com").href == "mailto:a@example.com"
    assert display(field("url"), "https://example.com").external
    assert display(field("text"), None) is None and display(field("multi_choice"), []) is None


def test_form_and_text_forms_read_back():
    assert to_form(field("boolean"), True) == "true"
    assert to_form(field("date"), "2026-03-31") == dt.date(2026, 3, 31)
    assert to_form(field("phone"), "+12125550100") == "+1 212-555-0100"
    assert to_text(field("multi_choice"), ["a", "b"]) == "a; b"
    assert to_text(field("number"), 0.000001) == "0.000001"
    assert to_export(field("date"), "2026-03-31") == dt.date(2026, 3, 31)
    assert to_export(field("text"), None) == ""
