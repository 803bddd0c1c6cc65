"""The duplicate lookup used on import: same email, same normalised phone, similar name at the same company."""

from __future__ import annotations

import pytest

from crm.core.testing import make_user
from crm.customers import services
from crm.customers.io.duplicates import Candidate, find_companies, find_duplicates, name_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(roles):
    return make_user(module="customers", scope="own")


@pytest.fixture
def people(owner):
    acme = services.company_create(actor=owner, data={"name": "Acme Ltd"})
    other = services.company_create(actor=owner, data={"name": "Other Co"})
    ada = services.contact_create(
        actor=owner,
        data={"first_name": "Ada", "last_name": "Lovelace", "company": acme, "emails": [{"email": "ada@example.com"}]},
    )
    wang = services.contact_create(
        actor=owner,
        data={"full_name": "王芳", "company": acme, "phones": [{"number": "+86 138 1234 5678"}]},
    )
    extra = services.contact_create(
        actor=owner,
        data={
            "full_name": "Second Address",
            "emails": [{"email": "first@example.com"}, {"email": "second@example.com"}],
        },
    )
    return {"acme": acme, "other": other, "ada": ada, "wang": wang, "extra": extra}


def test_same_email_any_of_the_contacts_addresses(owner, people):
    matches = find_duplicates(
        user=owner,
        candidates=[Candidate(emails=("ada@example.com",)), Candidate(emails=("second@example.com",)), Candidate()],
    )
    assert [(m.contact_id, m.reason) if m else None for m in matches] == [
        (people["ada"].pk, "email"),
        (people["extra"].pk, "email"),
        None,
    ]


def test_same_phone_in_e164(owner, people):
    (match,) = find_duplicates(user=owner, candidates=[Candidate(phones=("+8613812345678",))])
    assert match.contact_id == people["wang"].pk and match.reason == "phone"


@pytest.mark.parametrize("name", ["ada lovelace", "LOVELACE  Ada", "Ada Lovelace"])
def test_similar_name_at_the_same_company(owner, people, name):
    (match,) = find_duplicates(user=owner, candidates=[Candidate(name=name, company_id=people["acme"].pk)])
    assert match is not None and match.contact_id == people["ada"].pk and match.reason == "name"


@pytest.mark.parametrize("name", ["王芳", "王 芳", "芳 王"])
def test_chinese_names_with_or_without_a_space(owner, people, name):
    (match,) = find_duplicates(user=owner, candidates=[Candidate(name=name, company_id=people["acme"].pk)])
    assert match is not None and match.contact_id == people["wang"].pk


def test_same_name_elsewhere_is_not_a_duplicate(owner, people):
    candidates = [
        Candidate(name="Ada Lovelace", company_id=people["other"].pk),
        Candidate(name="Ada Lovelace"),
        Candidate(name="Ada Byron", company_id=people["acme"].pk),
    ]
    assert find_duplicates(user=owner, candidates=candidates) == [None, None, None]


def test_email_beats_phone_beats_name(owner, people):
    (match,) = find_duplicates(
        user=owner,
        candidates=[
            Candidate(
                emails=("ada@example.com",), phones=("+8613812345678",), name="王芳", company_id=people["acme"].pk
            )
        ],
    )
    assert match.contact_id == people["ada"].pk and match.reason == "email"


def test_only_contacts_the_user_can_see(people, roles):
    stranger = make_user(module="customers", scope="own")
    assert find_duplicates(user=stranger, candidates=[Candidate(emails=("ada@example.com",))]) == [None]
    assert find_companies(user=stranger, names=["Acme Ltd"]) == {}


def test_a_batch_takes_a_few_queries_whatever_its_size(owner, people, django_assert_max_num_queries):
    candidates = [
        Candidate(
            emails=(f"p{i}@example.com",), phones=(f"+1212555{i:04d}",), name=f"P {i}", company_id=people["acme"].pk
        )
        for i in range(400)
    ]
    with django_assert_max_num_queries(6):
        find_duplicates(user=owner, candidates=candidates)


def test_companies_by_name_ignoring_case_and_spaces(owner, people):
    assert find_companies(user=owner, names=["ACME  ltd", "Nowhere"]) == {"acme ltd": people["acme"].pk}


def test_name_keys():
    assert name_keys("  Ada   LOVELACE ") == name_keys("lovelace ada") == {"ada lovelace"}
    assert name_keys("王芳") == {"王芳"} and name_keys("芳 王") == {"芳王", "王芳"}
