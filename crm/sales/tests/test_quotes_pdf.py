"""The PDF of a quote: a valid document with the number, the customer, the lines and the totals;
Chinese text in the CID font; a long quote over several pages with "page x of y"."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from crm.core.testing import api_client
from crm.sales.quotes.pdf import needs_cjk_font, render_quote_pdf
from crm.sales.tests.test_quotes_helpers import deal_with_contact, quote, seller

pytestmark = pytest.mark.django_db

_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def _unescape(raw: bytes) -> bytes:
    out, index = bytearray(), 0
    while index < len(raw):
        char = raw[index : index + 1]
        if char != b"\\":
            out += char
            index += 1
            continue
        following = raw[index + 1 : index + 2]
        octal = re.match(rb"[0-7]{1,3}", raw[index + 1 : index + 4])
        if octal:
            out.append(int(octal.group(), 8))
            index += 1 + len(octal.group())
        else:
            out += _ESCAPES.get(following, following)
            index += 2
    return bytes(out)


def shown_text(pdf: bytes) -> str:
    """The text a PDF made with ``compress=False`` shows, a line per line of text: Helvetica strings as
    Latin-1, strings of the CID font as UTF-16 (what STSong-Light's UCS-2 encoding holds)."""
    cid_fonts = {font for font in set(re.findall(rb"/(F\d+) \d+ 0 R", pdf)) if b"STSong" in _font_object(pdf, font)}
    lines: list[str] = []
    token = re.compile(rb"/(F\d+) [\d.]+ Tf|\(((?:[^()\\]|\\.)*)\) Tj|T\*")
    for block in re.findall(rb"\bBT\b(.*?)\bET\b", pdf, flags=re.S):
        font, current = b"", ""
        for match in token.finditer(block):
            if match.group(1):
                font = match.group(1)
            elif match.group(0) == b"T*":
                if current:
                    lines.append(current)
                current = ""
            else:
                data = _unescape(match.group(2))
                current += data.decode("utf-16-be", "replace") if font in cid_fonts else data.decode("latin-1")
        if current:
            lines.append(current)
    return "\n".join(lines)


def _font_object(pdf: bytes, font: bytes) -> bytes:
    reference = re.search(rb"/" + font + rb" (\d+) 0 R", pdf)
    if not reference:
        return b""
    start = pdf.find(b"\n" + reference.group(1) + b" 0 obj")
    return pdf[start : pdf.find(b"endobj", start)]


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


@pytest.fixture
def me(roles):
    return seller(first_name="Grace", last_name="Hopper")


def test_the_pdf_shows_the_quote(me, settings):
    settings.CRM_COMPANY_NAME = "Northwind Traders"
    deal, _contact = deal_with_contact(me)
    created = quote(
        me,
        deal,
        title="CRM rollout",
        terms="Payment within 30 days.",
        notes="Thank you for your interest.",
        lines=[
            {
                "description": "Licence",
                "quantity": "3",
                "unit_price": "19.99",
                "discount_percent": "10",
                "tax_rate": "19",
            },
            {"description": "Onboarding (1 day) & <setup>", "unit_price": "1200"},
        ],
    )
    pdf = render_quote_pdf(created, compress=False)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    text = shown_text(pdf)
    for expected in (
        "Northwind Traders",
        created.number,
        "Ada Lovelace",
        "Acme Ltd",
        "United Kingdom",
        "ada@example.com",
        "Grace Hopper",
        "CRM rollout",
        "Onboarding (1 day) & <setup>",
        "$19.99",
        "$53.97",
        "$1,200.00",
        "$1,259.97",  # subtotal: 59.97 + 1,200.00
        "-$6.00",  # discounts
        "$10.25",  # tax
        "$1,264.22",  # total
        "Payment within 30 days.",
        "Thank you for your interest.",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert created.total == Decimal("1264.22")
    assert page_count(pdf) == 1


def test_the_company_name_has_a_default(me):
    deal, _contact = deal_with_contact(me)
    assert "Your company" in shown_text(render_quote_pdf(quote(me, deal), compress=False))


def test_chinese_text_is_set_in_the_cid_font(me, settings):
    settings.CRM_COMPANY_NAME = "华新科技有限公司"
    deal, _contact = deal_with_contact(me, name="王芳", email="wang@example.cn", currency="CNY")
    created = quote(me, deal, title="年度合同", lines=[{"description": "软件许可证（一年）", "unit_price": "3456.00"}])
    pdf = render_quote_pdf(created, compress=False)
    assert b"/BaseFont /STSong-Light" in pdf
    text = shown_text(pdf)
    for expected in ("华新科技有限公司", "王芳", "年度合同", "软件许可证（一年）", created.number):
        assert expected in text, expected
    assert "CN¥3,456.00" in text


def test_in_chinese_the_labels_and_amounts_follow_the_language(me):
    deal, _contact = deal_with_contact(me, currency="CNY")
    created = quote(me, deal, lines=[{"description": "Licence", "unit_price": "100"}])
    with translation.override("zh-hans"):
        pdf = render_quote_pdf(created, compress=False)
    assert pdf.startswith(b"%PDF-") and b"STSong-Light" in pdf
    assert "¥100.00" in shown_text(pdf)


def test_two_hundred_lines_run_over_several_pages(me):
    deal, _contact = deal_with_contact(me)
    lines = [{"description": f"Item number {n}", "quantity": "2", "unit_price": "10.50"} for n in range(1, 201)]
    created = quote(me, deal, lines=lines)
    assert created.total == Decimal("4200.00")
    pdf = render_quote_pdf(created, compress=False)
    pages = page_count(pdf)
    assert pages >= 4
    text = shown_text(pdf)
    assert "Item number 1\n" in text and "Item number 200" in text
    assert f"Page {pages} of {pages}" in text
    assert text.count("Unit price") == pages  # the table's header on every page
    assert "$4,200.00" in text
    assert render_quote_pdf(created).startswith(b"%PDF-")  # compressed, as sent


def test_cjk_detection():
    assert needs_cjk_font("王芳") and needs_cjk_font("₹ 100")
    assert not needs_cjk_font("Müller & Söhne, €5")


def test_download_from_the_page_and_the_api(me, client):
    deal, _contact = deal_with_contact(me)
    created = quote(me, deal)
    client.force_login(me)
    response = client.get(reverse("sales:quote_pdf", args=[created.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{created.number}.pdf"'
    assert response.content.startswith(b"%PDF-")
    inline = client.get(reverse("sales:quote_pdf", args=[created.pk]) + "?inline=1")
    assert inline["Content-Disposition"].startswith("inline;")
    api = api_client(me)
    response = api.get(reverse("sales-api:quote-pdf", args=[created.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    response = api.get(reverse("sales-api:quote-pdf", args=[created.pk]), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_the_pdf_of_a_quote_outside_my_scope_is_not_found(roles, client):
    me, other = seller(scope="own"), seller(scope="own")
    deal, _contact = deal_with_contact(other)
    theirs = quote(other, deal)
    client.force_login(me)
    assert client.get(reverse("sales:quote_pdf", args=[theirs.pk])).status_code == 404
    assert api_client(me).get(reverse("sales-api:quote-pdf", args=[theirs.pk])).status_code == 404
