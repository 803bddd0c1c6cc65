"""Importing leads from CSV and XLSX: upload, mapping, preview, the background job, the assignment
rules and scoring on every created lead, the rejected rows, files that cannot be read, permissions."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from crm.accounts.tests.factories import RoleFactory, TeamFactory, UserFactory
from crm.core.choices import JobStatus
from crm.core.models import Job, JournalEntry, Notification
from crm.core.registry import platform
from crm.customers.io.reading import FileInfo
from crm.customers.io.testing import csv_bytes, finished_job, media_fixture, rejected_rows, upload, xlsx_bytes
from crm.sales.choices import AssignmentMethod
from crm.sales.leads.io import importing, services
from crm.sales.leads.io.cleaning import company_size
from crm.sales.leads.io.mapping import guess_mapping, mapping_problems
from crm.sales.leads.io.tasks import LEAD_IMPORT, lead_import_task
from crm.sales.models import AssignmentRule, Lead

pytestmark = pytest.mark.django_db
isolated_media = media_fixture()

REP = {"sales": ["view", "create", "edit"], "customers": ["view"]}
HEADER = ["First name", "Last name", "Email", "Phone", "Company", "Job title", "Country"]
ROWS = [
    HEADER,
    ["Ada", "Lovelace", "ADA@example.com", "+44 20 7946 0018", "Analytical Engines", "Countess", "GB"],
    ["Grace", "Hopper", "grace@example.com", "(212) 555-0100", "Navy", "Rear Admiral", "United States"],
    ["Bad", "Email", "not-an-email", "", "Acme", "", ""],
]


@pytest.fixture
def reps(roles):
    role = RoleFactory(permissions=REP, data_scope="own")
    return [UserFactory(username=f"rep{i}", email=f"rep{i}@example.com", role=role) for i in range(4)]


@pytest.fixture
def round_robin(reps):
    team = TeamFactory(name="Inside sales", members=reps)
    return AssignmentRule.objects.create(name="Everyone", method=AssignmentMethod.ROUND_ROBIN, team=team, order=0)


def start_import(client: Any, file: Any, *, mapping: dict[int, str] | None = None, has_header: bool = True) -> Any:
    """Upload, accept the guessed mapping (with ``mapping`` overrides) and start; the last response."""
    response = client.post(reverse("sales:lead_import"), {"file": file, "has_header": "on" if has_header else ""})
    if response.status_code != 302:
        return response
    map_url = response["Location"]
    page = client.get(map_url)
    assert page.status_code == 200
    form = page.context["form"]
    data = {f"col_{i}": form[f"col_{i}"].value() or "" for i in range(len(form.header))}
    data.update({f"col_{i}": key for i, key in (mapping or {}).items()})
    return client.post(map_url, data)


def run(client: Any, file: Any, capture: Any, **kwargs: Any) -> Job:
    with capture(execute=True):
        response = start_import(client, file, **kwargs)
    assert response.status_code == 302, response.content.decode()[:3000]
    job = finished_job(response)
    assert response["Location"] == reverse("sales:lead_import_job", args=[job.pk])
    return job


def stored_uploads() -> list[str]:
    try:
        folders, _files = default_storage.listdir("imports")
    except FileNotFoundError:
        return []
    return [name for folder in folders for name in default_storage.listdir(f"imports/{folder}")[1]]


# --- the whole flow -----------------------------------------------------------------------------------


def test_a_utf8_bom_csv_is_mapped_imported_and_bad_rows_are_rejected(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    job = run(admin_client, upload(csv_bytes(ROWS, bom=True), "leads.csv"), django_capture_on_commit_callbacks)
    assert job.kind == LEAD_IMPORT and job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 2 and job.result["rejected"] == 1 and job.result["rows"] == 3

    ada = Lead.objects.get(email="ada@example.com")  # stored in lower case
    assert ada.name == "Ada Lovelace" and ada.first_name == "Ada" and ada.company_name == "Analytical Engines"
    assert ada.phone == "+442079460018" and ada.title == "Countess" and ada.country == "GB"
    assert ada.source == "import" and ada.status == "new"
    assert ada.owner == admin_user  # no rules, no fallback: the importing person keeps the leads
    grace = Lead.objects.get(email="grace@example.com")
    assert grace.phone == "+12125550100" and grace.country == "US"
    assert not Lead.objects.filter(name="Bad Email").exists()

    rows = rejected_rows(job)
    assert rows[0] == ["Row", "Problems", *HEADER]
    assert len(rows) == 2 and rows[1][0] == "4" and rows[1][2:] == ROWS[3]
    assert "Email" in rows[1][1] and "valid email" in rows[1][1]

    summary = admin_client.get(reverse("sales:lead_import_job", args=[job.pk])).content.decode()
    assert 'data-count="created">2<' in summary and 'data-count="rejected">1<' in summary
    assert reverse("core:job_download", args=[job.pk]) in summary
    assert stored_uploads() == []  # the uploaded file is deleted once imported


def test_leads_are_journaled_with_the_import_path_and_scored(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    from crm.sales.models import ScoringRule

    ScoringRule.objects.create(name="Has a phone", field="phone", operator="not_empty", value="", points=30)
    run(admin_client, upload(csv_bytes(ROWS[:3])), django_capture_on_commit_callbacks)
    entries = JournalEntry.objects.filter(content_type=ContentType.objects.get_for_model(Lead), action="create")
    assert entries.count() == 2
    assert set(entries.values_list("source", flat=True)) == {"import"}
    assert set(entries.values_list("actor", flat=True)) == {admin_user.pk}
    assert set(Lead.objects.values_list("score", flat=True)) == {30}


def test_a_gbk_file_with_chinese_headers_is_mapped_and_imported(admin_client, django_capture_on_commit_callbacks):
    rows = [
        ["姓名", "职位", "邮箱", "手机", "公司", "网站", "行业", "规模", "国家", "省份", "来源", "意向", "备注"],
        ["张伟", "采购经理", "zhangwei@example.cn", "138 1234 5678", "北京科技有限公司", "example.cn", "制造业", "35",
         "中国", "北京", "推荐", "CRM 系统", "展会上认识"],
        ["李娜", "总监", "lina@example.cn", "", "上海贸易", "", "", "1–10 人", "CN", "上海", "展会活动", "", ""],
    ]  # fmt: skip
    data = csv_bytes(rows, encoding="gbk")
    data.decode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    response = admin_client.post(reverse("sales:lead_import"), {"file": upload(data), "has_header": "on"})
    page = admin_client.get(response["Location"])
    assert "GBK / GB18030" in page.content.decode()
    form = page.context["form"]
    assert form.mapping() == [
        "name",
        "title",
        "email",
        "phone",
        "company_name",
        "website",
        "industry",
        "company_size",
        "country",
        "region",
        "source",
        "interest",
        "notes",
    ]
    job = run(admin_client, upload(data), django_capture_on_commit_callbacks)
    assert job.result["created"] == 2 and job.result["rejected"] == 0, (
        rejected_rows(job) if job.result_file else job.error
    )

    zhang = Lead.objects.get(email="zhangwei@example.cn")
    assert zhang.name == "张伟" and zhang.title == "采购经理" and zhang.phone == "+8613812345678"
    assert zhang.company_name == "北京科技有限公司" and zhang.website == "https://example.cn"
    assert zhang.company_size == "11-50" and zhang.country == "CN" and zhang.region == "北京"
    assert zhang.source == "referral" and zhang.interest == "CRM 系统" and zhang.notes == "展会上认识"
    li = Lead.objects.get(email="lina@example.cn")
    assert li.company_size == "1-10" and li.source == "event"


def test_an_xlsx_file_is_imported(admin_client, django_capture_on_commit_callbacks):
    rows = [
        ["Name", "E-mail", "Company size", "Lead source", "Interest"],
        ["Alan Turing", "alan@example.com", 250, "Partner", "Enigma"],
    ]
    data = xlsx_bytes(rows)
    job = run(
        admin_client,
        upload(data, "leads.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        django_capture_on_commit_callbacks,
    )
    assert job.status == JobStatus.SUCCEEDED and job.result["created"] == 1, job.error
    alan = Lead.objects.get()
    assert alan.name == "Alan Turing" and alan.company_size == "201-1000" and alan.source == "partner"
    assert alan.interest == "Enigma"


# --- assignment rules and owners ----------------------------------------------------------------------


def test_the_assignment_rules_spread_imported_leads_evenly_and_owners_are_told(
    admin_client, reps, round_robin, django_capture_on_commit_callbacks
):
    rows = [["Name", "Email"], *([f"Lead {i}", f"lead{i}@example.com"] for i in range(40))]
    job = run(admin_client, upload(csv_bytes(rows)), django_capture_on_commit_callbacks)
    assert job.result["created"] == 40, job.error
    owners = Counter(Lead.objects.values_list("owner_id", flat=True))
    assert owners == {rep.pk: 10 for rep in reps}
    assert set(Lead.objects.values_list("team_id", flat=True)) == {round_robin.team_id}
    assert job.result["owners"] == {str(rep.pk): 10 for rep in reps}
    for rep in reps:
        assert Notification.objects.filter(recipient=rep, title__startswith="New lead assigned to you").count() == 10
    summary = admin_client.get(reverse("sales:lead_import_job", args=[job.pk])).content.decode()
    assert 'data-testid="import-owners"' in summary and "· 10" in summary


def test_an_owner_column_names_an_active_colleague(admin_client, reps, round_robin, django_capture_on_commit_callbacks):
    reps[3].is_active = False
    reps[3].save()
    rows = [
        ["Name", "Owner"],
        ["By username", "REP1"],
        ["By email", "rep2@example.com"],
        ["Left the company", "rep3"],
        ["Unknown", "nobody"],
        ["Rules decide", ""],
    ]
    job = run(admin_client, upload(csv_bytes(rows)), django_capture_on_commit_callbacks)
    assert job.result["created"] == 3 and job.result["rejected"] == 2
    assert Lead.objects.get(name="By username").owner == reps[1]
    assert Lead.objects.get(name="By email").owner == reps[2]
    assert Lead.objects.get(name="Rules decide").owner in reps[:3]
    reasons = {row[0]: row[1] for row in rejected_rows(job)[1:]}
    assert set(reasons) == {"4", "5"}
    assert "rep3" in reasons["4"] and "active colleague" in reasons["4"]
    assert "nobody" in reasons["5"]


def test_every_problem_of_a_row_is_listed_at_once(admin_client, django_capture_on_commit_callbacks):
    rows = [["Name", "Email", "Source", "Owner"], ["Bad", "nope@", "Carrier pigeon", "ghost"]]
    job = run(admin_client, upload(csv_bytes(rows)), django_capture_on_commit_callbacks)
    reasons = rejected_rows(job)[1][1]
    assert "Carrier pigeon" in reasons and "ghost" in reasons and "Email: " in reasons


# --- rows with problems ------------------------------------------------------------------------------------


def test_the_preview_shows_each_rows_problems_and_writes_nothing(admin_client):
    rows = [
        ["Name", "Email", "Phone", "Source", "Company size", "Country", "Job title"],
        ["Good", "good@example.com", "+1 212 555 0100", "Referral", "11-50", "DE", ""],
        ["Bad email", "nope@", "", "", "", "", ""],
        ["Bad phone", "", "12", "", "", "", ""],
        ["Bad source", "", "", "Carrier pigeon", "", "", ""],
        ["Bad size", "", "", "", "huge", "", ""],
        ["Bad country", "", "", "", "", "Atlantis", ""],
        ["Bad code", "", "", "", "", "XX", ""],
        ["Too long", "", "", "", "", "", "x" * 150],
        ["", "", "", "", "", "", "Nameless"],
    ]
    response = admin_client.post(reverse("sales:lead_import"), {"file": upload(csv_bytes(rows)), "has_header": "on"})
    page = admin_client.get(response["Location"])
    preview = {item["row"].number: item for item in page.context["preview"]}
    assert preview[2]["lead"] is not None and preview[2]["problems"] == []
    assert preview[2]["phone"] == "+1 212-555-0100" and preview[2]["lead"].source == "referral"

    def problems(number: int) -> str:
        assert preview[number]["lead"] is None
        return " ".join(preview[number]["problems"])

    assert "valid email" in problems(3)
    assert "“12”" in problems(4) and "phone" in problems(4)
    assert "Carrier pigeon" in problems(5) and "source" in problems(5)
    assert "huge" in problems(6) and "company size" in problems(6)
    assert "Atlantis" in problems(7)
    assert "XX" in problems(8) and "country code" in problems(8)
    assert "Job title" in problems(9) and "100" in problems(9)
    assert "name" in problems(10)
    html = page.content.decode()
    assert "Good rows are imported, bad rows are rejected." in html and "Rejected" in html
    assert Lead.objects.count() == 0 and Job.objects.count() == 0

    fragment = admin_client.post(
        reverse("sales:lead_import_preview", args=[response["Location"].rstrip("/").split("/")[-1]]),
        {"col_0": "", "col_1": "", "col_2": "phone"},
    )
    assert fragment.status_code == 200 and "Map a column to the full name" in fragment.content.decode()


def test_formula_cells_are_neutralised_in_the_rejected_file(admin_client, django_capture_on_commit_callbacks):
    rows = [["Name", "Email", "Notes"], ['=HYPERLINK("http://x")', "bad", "@SUM(A1)"], ["Fine", "", "-ok"]]
    job = run(admin_client, upload(csv_bytes(rows)), django_capture_on_commit_callbacks)
    assert job.result["created"] == 1 and job.result["rejected"] == 1
    assert Lead.objects.get().notes == "-ok"  # a lead keeps what was typed; only the file is made safe
    rejected = rejected_rows(job)[1]
    assert rejected[2] == '\'=HYPERLINK("http://x")' and rejected[4] == "'@SUM(A1)"


def test_a_mapping_without_a_name_is_refused(admin_client):
    rows = [["Name", "Company"], ["Ada", "Engines"]]
    response = start_import(admin_client, upload(csv_bytes(rows)), mapping={0: ""})
    assert response.status_code == 400
    assert "Map a column to the full name" in response.content.decode()
    response = start_import(admin_client, upload(csv_bytes(rows)), mapping={1: "name"})
    assert response.status_code == 400 and "Two columns are mapped" in response.content.decode()
    assert Job.objects.count() == 0 and Lead.objects.count() == 0


# --- files that cannot be imported ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty."),
        (b"\xef\xbb\xbf \r\n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a CSV or XLSX spreadsheet (it looks like a PNG image)"),
        (b"%PDF-1.7 ...", "PDF document"),
        (b"Name,Email\r\n", "header row but no data rows"),
    ],
)
def test_files_that_cannot_be_read_get_a_clear_message_and_nothing_is_written(admin_client, data, message):
    response = admin_client.post(reverse("sales:lead_import"), {"file": upload(data), "has_header": "on"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Lead.objects.count() == 0 and Job.objects.count() == 0 and stored_uploads() == []


def test_broken_quotes_near_the_top_are_refused_at_upload(admin_client):
    data = b'Name,Email\r\nAda,ada@example.com\r\n"Grace "Hopper,grace@example.com\r\n'
    response = admin_client.post(reverse("sales:lead_import"), {"file": upload(data), "has_header": "on"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 3" in page and "broken quotes" in page
    assert Lead.objects.count() == 0 and Job.objects.count() == 0 and stored_uploads() == []


def test_broken_quotes_further_down_stop_the_import_and_nothing_is_written(
    admin_client, django_capture_on_commit_callbacks
):
    rows = [["Name", "Email"], *([f"Person {i}", f"p{i}@example.com"] for i in range(40))]
    data = csv_bytes(rows) + b'"Never closed,x@example.com\r\n' + csv_bytes(rows[1:3])
    with django_capture_on_commit_callbacks(execute=True):
        response = start_import(admin_client, upload(data))
    job = finished_job(response)
    assert job.status == JobStatus.FAILED
    assert "Line 42" in job.result["file_error"] and "quote" in job.result["file_error"]
    assert Lead.objects.count() == 0  # the whole file is read before the first row is written
    summary = admin_client.get(reverse("sales:lead_import_job", args=[job.pk])).content.decode()
    assert 'data-testid="import-file-error"' in summary and "Line 42" in summary
    assert stored_uploads() == []


# --- permissions ---------------------------------------------------------------------------------------------


def test_sales_create_is_needed(admin_client, roles):
    viewer = UserFactory(role=RoleFactory(permissions={"sales": ["view"]}, data_scope="all"))
    client = Client()
    client.force_login(viewer)
    assert client.get(reverse("sales:lead_import")).status_code == 403
    response = client.post(reverse("sales:lead_import"), {"file": upload(csv_bytes(ROWS)), "has_header": "on"})
    assert response.status_code == 403
    assert client.get(reverse("sales:lead_import_map", args=["whatever"])).status_code == 403
    assert stored_uploads() == []
    list_page = client.get(reverse("sales:lead_list")).content.decode()
    assert reverse("sales:lead_import") not in list_page
    assert reverse("sales:lead_import") in admin_client.get(reverse("sales:lead_list")).content.decode()
    with pytest.raises(PermissionDenied):
        services.lead_import_start(
            actor=viewer, path="imports/x/y.csv", file_name="y.csv", info=FileInfo(kind="csv"), mapping=["name"],
            has_header=True,
        )  # fmt: skip


def test_another_persons_import_is_not_found(admin_client, reps, django_capture_on_commit_callbacks):
    job = run(admin_client, upload(csv_bytes(ROWS[:2])), django_capture_on_commit_callbacks)
    client = Client()
    client.force_login(reps[0])
    assert client.get(reverse("sales:lead_import_job", args=[job.pk])).status_code == 404
    response = admin_client.post(reverse("sales:lead_import"), {"file": upload(csv_bytes(ROWS)), "has_header": "on"})
    assert client.get(response["Location"]).status_code == 404  # a draft belongs to one session


def test_a_person_who_lost_the_right_to_create_leads_imports_nothing(
    reps, round_robin, django_capture_on_commit_callbacks
):
    rep = reps[0]
    path = default_storage.save("imports/test/leads.csv", io.BytesIO(csv_bytes([["Name"], ["Ada"]])))
    with django_capture_on_commit_callbacks(execute=False):
        job = services.lead_import_start(
            actor=rep, path=path, file_name="leads.csv", info=FileInfo(kind="csv", encoding="utf-8"), mapping=["name"],
            has_header=True,
        )  # fmt: skip
    rep.role = RoleFactory(permissions={"sales": ["view"]})
    rep.save()
    lead_import_task(str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no longer create leads" in job.error
    assert Lead.objects.count() == 0 and not default_storage.exists(path)


# --- the background job ------------------------------------------------------------------------------------


def test_the_job_kind_is_registered_with_its_celery_task():
    assert platform.jobs[LEAD_IMPORT] is lead_import_task
    assert lead_import_task.name == "sales.lead_import_task"


def test_the_job_is_queued_on_commit_and_run_by_the_celery_task(admin_user, django_capture_on_commit_callbacks):
    path = default_storage.save("imports/test/leads.csv", io.BytesIO(csv_bytes([["Name"], ["Ada"], ["Grace"]])))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.lead_import_start(
            actor=admin_user, path=path, file_name="leads.csv", info=FileInfo(kind="csv", encoding="utf-8"),
            mapping=["name"], has_header=True,
        )  # fmt: skip
    assert job.status == JobStatus.PENDING and Lead.objects.count() == 0 and len(callbacks) == 1
    callbacks[0]()  # the eager Celery task runs the job
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.progress == 100 and job.result["created"] == 2
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["Ada", "Grace"]
    assert Notification.objects.filter(recipient=admin_user, url=reverse("core:job_detail", args=[job.pk])).exists()


def test_the_service_checks_the_mapping_and_the_kind_of_file(admin_user):
    with pytest.raises(ValidationError) as error:
        services.lead_import_start(
            actor=admin_user, path="p", file_name="f", info=FileInfo(kind="csv"), mapping=["company_name"],
            has_header=True,
        )  # fmt: skip
    assert "mapping" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.lead_import_start(
            actor=admin_user, path="p", file_name="f", info=FileInfo(kind="vcard"), mapping=["name"], has_header=True
        )
    assert Job.objects.count() == 0


def test_batches_are_streamed_and_a_resumed_job_does_not_import_rows_twice(
    admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    rows = [["Name", "Email"], ["A", "a@example.com"], ["B", "bad"], ["C", "c@example.com"], ["D", "d@example.com"]]
    path = default_storage.save("imports/test/leads.csv", io.BytesIO(csv_bytes(rows)))
    with django_capture_on_commit_callbacks(execute=False):
        job = services.lead_import_start(
            actor=admin_user, path=path, file_name="leads.csv", info=FileInfo(kind="csv", encoding="utf-8"),
            mapping=["name", "email"], has_header=True,
        )  # fmt: skip
    # A worker saved the first batch (A created, B rejected), then died.
    Lead.objects.create(name="A", email="a@example.com", owner=admin_user)
    Job.objects.filter(pk=job.pk).update(
        result={
            "created": 1,
            "rejected": 1,
            "rows": 2,
            "done": 2,
            "checkpoint": True,
            "owners": {str(admin_user.pk): 1},
        }
    )
    lead_import_task(str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 3 and job.result["rejected"] == 1 and job.result["rows"] == 4
    assert job.result["owners"] == {str(admin_user.pk): 3}
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["A", "C", "D"]
    assert [row[0] for row in rejected_rows(job)[1:]] == ["3"]  # the earlier batch's rejected row is listed again


# --- pieces ----------------------------------------------------------------------------------------------------


def test_headers_are_guessed_in_english_and_chinese():
    assert guess_mapping(["First Name", "Last_Name", "E-mail Address", "Mobile", "Company Name", "State"]) == [
        "first_name",
        "last_name",
        "email",
        "phone",
        "company_name",
        "region",
    ]
    assert guess_mapping(["名", "姓", "电话", "手机", "来源", "负责人", "Whatever"]) == [
        "first_name",
        "last_name",
        "phone",
        "",  # a field is guessed for its first column only
        "source",
        "owner",
        "",
    ]
    assert mapping_problems(["email"]) == []
    assert mapping_problems(["phone"]) != []


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1-10", "1-10"),
        ("11–50 employees", "11-50"),
        ("51–200 人", "51-200"),
        ("5000+", "5000+"),
        ("7", "1-10"),
        ("1,000", "201-1000"),
        ("5000", "1001-5000"),
        ("5,000+", "5000+"),
        ("12000", "5000+"),
        ("0", None),
        ("big", None),
    ],
)
def test_company_sizes_are_read_from_codes_labels_and_head_counts(text, size):
    assert company_size(text) == size


def test_the_rejected_file_reads_back_as_csv(admin_client, django_capture_on_commit_callbacks):
    rows = [["Name", "Email"], ["张伟", "坏的"]]
    job = run(admin_client, upload(csv_bytes(rows, bom=True)), django_capture_on_commit_callbacks)
    with job.result_file.open("rb") as handle:
        raw = handle.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # spreadsheet programs need the BOM to read Chinese
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert parsed[1][2:] == ["张伟", "坏的"]


def test_rows_are_read_a_batch_at_a_time(admin_user, monkeypatch):
    """The file is never held whole: when a batch is saved, only that batch has been read from it."""
    from crm.customers.io.importing import RejectedRows, SourceRow

    monkeypatch.setattr(importing, "BATCH_SIZE", 3)
    pulled = 0

    def rows():
        nonlocal pulled
        for number in range(2, 12):
            pulled += 1
            yield SourceRow(number=number, cells=[f"Lead {number}"], values={"name": f"Lead {number}"})

    seen: list[tuple[int, int]] = []
    rejected = RejectedRows(["Name"])
    counts = importing.run_import(
        importer=importing.LeadImporter(user=admin_user),
        rows=rows(),
        rejected=rejected,
        total=10,
        checkpoint=lambda done, _counts: seen.append((done, pulled)),
    )
    rejected.close()
    assert counts.created == 10 and seen == [(3, 3), (6, 6), (9, 9), (10, 10)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_field_labels_map_back_in_each_language(language):
    from django.utils import translation

    from crm.sales.leads.io.mapping import LEAD_TARGETS

    with translation.override(language):
        header = [str(target.label) for target in LEAD_TARGETS]
    assert guess_mapping(header) == [target.key for target in LEAD_TARGETS]


def test_the_pages_render_in_each_language(admin_client, admin_user, django_capture_on_commit_callbacks):
    job = run(admin_client, upload(csv_bytes(ROWS)), django_capture_on_commit_callbacks)
    for language in ("en", "zh-hans"):
        admin_user.language = language
        admin_user.save()
        upload_page = admin_client.get(reverse("sales:lead_import"), HTTP_ACCEPT_LANGUAGE=language)
        response = admin_client.post(
            reverse("sales:lead_import"), {"file": upload(csv_bytes(ROWS)), "has_header": "on"}
        )
        map_page = admin_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE=language)
        job_page = admin_client.get(reverse("sales:lead_import_job", args=[job.pk]), HTTP_ACCEPT_LANGUAGE=language)
        fragment = admin_client.get(reverse("sales:lead_import_job", args=[job.pk]), HTTP_HX_REQUEST="true")
        for page in (upload_page, map_page, job_page):
            assert page.status_code == 200
            assert f'<html lang="{language}">' in page.content.decode()
        assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
