"""The PDF of a quote: an A4 document with the company's name, the quote's number and dates, the
customer, a table of lines with aligned amounts (its header repeated on every page), the totals, notes,
terms, validity and a place to sign; every page says "page x of y".

Text in Latin scripts is set in Helvetica; any text with characters Helvetica lacks (Chinese,
Japanese, Korean and more) in reportlab's built-in CID font STSong-Light, which needs no font file.
Amounts are formatted with ``crm.core.money.format_money`` in the current language.
"""

from __future__ import annotations

import io
from decimal import Decimal
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from babel import Locale
from babel.numbers import format_decimal
from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from crm.core.money import format_money

from ..models import Quote, QuoteLine
from .display import company_name

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
MARGIN = 18 * mm
PAGE_WIDTH, PAGE_HEIGHT = A4
FRAME_PADDING = 6  # reportlab's frame keeps 6 points on each side
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN - 2 * FRAME_PADDING
INK = colors.HexColor("#1f2937")
MUTED = colors.HexColor("#6b7280")
RULE = colors.HexColor("#d1d5db")
BAND = colors.HexColor("#f3f4f6")
ACCENT = colors.HexColor("#206bc4")


@lru_cache(maxsize=1)
def _register_cjk_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def needs_cjk_font(text: str) -> bool:
    """Whether ``text`` has characters outside what Helvetica can show (Windows-1252)."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return True
    return False


class _Styles:
    """Paragraph styles, each in a Latin and a CJK variant picked by the text."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, bool], ParagraphStyle] = {}
        self.specs: dict[str, dict[str, Any]] = {
            "body": {"fontSize": 9, "leading": 12, "textColor": INK},
            "small": {"fontSize": 7.5, "leading": 9.5, "textColor": MUTED},
            "label": {"fontSize": 7.5, "leading": 10, "textColor": MUTED},
            "cell": {"fontSize": 8.5, "leading": 11, "textColor": INK},
            "cell_right": {"fontSize": 8.5, "leading": 11, "textColor": INK, "alignment": TA_RIGHT},
            "head": {"fontSize": 8, "leading": 10, "textColor": colors.white, "bold": True},
            "head_right": {
                "fontSize": 8,
                "leading": 10,
                "textColor": colors.white,
                "bold": True,
                "alignment": TA_RIGHT,
            },
            "company": {"fontSize": 16, "leading": 20, "textColor": INK, "bold": True},
            "title": {"fontSize": 20, "leading": 24, "textColor": ACCENT, "bold": True, "alignment": TA_RIGHT},
            "heading": {"fontSize": 11, "leading": 14, "textColor": INK, "bold": True},
            "total_label": {"fontSize": 9, "leading": 12, "textColor": INK, "alignment": TA_RIGHT},
            "total_value": {"fontSize": 9, "leading": 12, "textColor": INK, "alignment": TA_RIGHT},
            "grand_label": {"fontSize": 11, "leading": 14, "textColor": INK, "bold": True, "alignment": TA_RIGHT},
            "grand_value": {"fontSize": 11, "leading": 14, "textColor": INK, "bold": True, "alignment": TA_RIGHT},
        }

    def get(self, name: str, cjk: bool) -> ParagraphStyle:
        key = (name, cjk)
        style = self.cache.get(key)
        if style is None:
            spec = dict(self.specs[name])
            bold = spec.pop("bold", False)
            font = _register_cjk_font() if cjk else (LATIN_BOLD if bold else LATIN_FONT)
            spec.setdefault("alignment", TA_LEFT)
            style = ParagraphStyle(f"quote-{name}-{int(cjk)}", fontName=font, **spec)
            self.cache[key] = style
        return style

    def para(self, text: Any, name: str = "body") -> Paragraph:
        """A paragraph of plain text (escaped; line breaks kept) in the font its characters need."""
        value = "" if text is None else str(text)
        markup = escape(value).replace("\n", "<br/>")
        return Paragraph(markup, self.get(name, needs_cjk_font(value)))


def _babel_locale() -> str:
    return "zh_Hans_CN" if (translation.get_language() or "en").startswith("zh") else "en"


def _quantity(value: Decimal) -> str:
    return format_decimal(value.normalize(), locale=_babel_locale(), decimal_quantization=False)


def _percent(value: Decimal) -> str:
    return f"{_quantity(value)}%" if value else "—"


def country_name(code: str) -> str:
    """The country's name in the current language (``GB`` -> ``United Kingdom`` / ``英国``)."""
    return str(Locale.parse(_babel_locale()).territories.get(code.upper(), code)) if code else ""


def _date(value: Any) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else "—"


def _customer_lines(quote: Quote) -> list[str]:
    contact = quote.contact
    company = (contact.company if contact is not None and contact.company_id else None) or quote.deal.company
    lines: list[str] = []
    if contact is not None:
        lines.append(contact.name + (f", {contact.title}" if contact.title else ""))
    if company is not None:
        lines.append(company.name)
    address_of = contact if contact is not None and contact.address_lines else company
    if address_of is not None:
        address = list(address_of.address_lines)
        if address and address_of.country:  # the country by name, in the current language
            address[-1] = country_name(address_of.country)
        lines.extend(address)
    if contact is not None and contact.email:
        lines.append(contact.email)
    return lines


def _numbered_canvas(footer: str, styles: _Styles) -> type[canvas.Canvas]:
    """A canvas that writes "company · quote · page x of y" at the foot of every page once the number
    of pages is known."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            page = _("Page %(page)d of %(pages)d") % {"page": number, "pages": total}
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            left, right = MARGIN + FRAME_PADDING, PAGE_WIDTH - MARGIN - FRAME_PADDING
            self.line(left, 14 * mm, right, 14 * mm)
            self.setFillColor(MUTED)
            left_font = _register_cjk_font() if needs_cjk_font(footer) else LATIN_FONT
            self.setFont(left_font, 7.5)
            self.drawString(left, 10 * mm, footer)
            right_font = _register_cjk_font() if needs_cjk_font(page) else LATIN_FONT
            self.setFont(right_font, 7.5)
            self.drawRightString(right, 10 * mm, page)

    return NumberedCanvas


def _header(quote: Quote, styles: _Styles) -> list[Any]:
    issued = timezone.localtime(quote.created_at).date() if quote.created_at else timezone.localdate()
    facts = [
        (_("Quote number"), quote.number),
        (_("Date"), _date(issued)),
        (_("Valid until"), _date(quote.valid_until)),
    ]
    fact_rows = [[styles.para(label, "label"), styles.para(value, "cell_right")] for label, value in facts]
    facts_table = Table(fact_rows, colWidths=[28 * mm, 42 * mm], hAlign="RIGHT")
    facts_table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -2), 0.25, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    company_block: list[Any] = [styles.para(company_name(), "company")]
    address = str(getattr(settings, "CRM_COMPANY_ADDRESS", "") or "")
    for line in address.split("|"):
        if line.strip():
            company_block.append(styles.para(line.strip(), "small"))
    top = Table(
        [[company_block, [styles.para(_("QUOTE"), "title"), Spacer(1, 3 * mm), facts_table]]],
        colWidths=[CONTENT_WIDTH - 72 * mm, 72 * mm],
    )
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))

    customer = [styles.para(_("Prepared for"), "label")]
    customer += [styles.para(line) for line in _customer_lines(quote)] or [styles.para("—")]
    seller = [styles.para(_("Prepared by"), "label")]
    owner = quote.owner
    if owner is not None:
        seller.append(styles.para(owner.get_full_name() or owner.username))
        if owner.email:
            seller.append(styles.para(owner.email))
    seller.append(styles.para(company_name()))
    parties = Table([[customer, seller]], colWidths=[CONTENT_WIDTH / 2, CONTENT_WIDTH / 2])
    parties.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("LINEABOVE", (0, 0), (-1, 0), 0.75, ACCENT),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    story: list[Any] = [top, Spacer(1, 8 * mm), parties, Spacer(1, 8 * mm)]
    subject = quote.title or quote.deal.name
    if subject:
        story += [styles.para(subject, "heading"), Spacer(1, 3 * mm)]
    return story


COLUMNS = (8 * mm, None, 16 * mm, 26 * mm, 18 * mm, 14 * mm, 28 * mm)


def _lines_table(quote: Quote, lines: list[QuoteLine], styles: _Styles) -> Table:
    fixed = sum(width for width in COLUMNS if width is not None)
    widths = [width if width is not None else CONTENT_WIDTH - fixed for width in COLUMNS]
    head = [
        styles.para("#", "head"),
        styles.para(_("Description"), "head"),
        styles.para(_("Qty"), "head_right"),
        styles.para(_("Unit price"), "head_right"),
        styles.para(_("Discount"), "head_right"),
        styles.para(_("Tax"), "head_right"),
        styles.para(_("Amount"), "head_right"),
    ]
    rows: list[list[Any]] = [head]
    for number, line in enumerate(lines, start=1):
        description: list[Any] = [styles.para(line.description, "cell")]
        product = line.product
        if product is not None and product.code:
            unit = f" · {product.unit}" if product.unit else ""
            description.append(styles.para(f"{product.code}{unit}", "small"))
        rows.append(
            [
                styles.para(str(number), "cell"),
                description,
                styles.para(_quantity(line.quantity), "cell_right"),
                styles.para(format_money(line.unit_price, quote.currency), "cell_right"),
                styles.para(_percent(line.discount_percent), "cell_right"),
                styles.para(_percent(line.tax_rate), "cell_right"),
                styles.para(format_money(line.line_total, quote.currency), "cell_right"),
            ]
        )
    if len(rows) == 1:
        rows.append(["", styles.para(_("No lines yet."), "small"), "", "", "", "", ""])
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), INK),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, BAND]),
                ("LINEBELOW", (0, -1), (-1, -1), 0.75, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _totals(quote: Quote, styles: _Styles) -> Table:
    money = lambda amount: format_money(amount, quote.currency)  # noqa: E731
    rows = [[styles.para(_("Subtotal"), "total_label"), styles.para(money(quote.subtotal), "total_value")]]
    if quote.discount_total:
        rows.append(
            [styles.para(_("Discounts"), "total_label"), styles.para(money(-quote.discount_total), "total_value")]
        )
    rows.append([styles.para(_("Tax"), "total_label"), styles.para(money(quote.tax_total), "total_value")])
    rows.append(
        [
            styles.para(_("Total (%(currency)s)") % {"currency": quote.currency}, "grand_label"),
            styles.para(money(quote.total), "grand_value"),
        ]
    )
    table = Table(rows, colWidths=[45 * mm, 35 * mm], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, -1), (-1, -1), 1, INK),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, -1), (-1, -1), 5),
            ]
        )
    )
    return table


def _closing(quote: Quote, styles: _Styles) -> list[Any]:
    story: list[Any] = []
    if quote.notes:
        story += [Spacer(1, 6 * mm), styles.para(_("Notes"), "label"), styles.para(quote.notes)]
    if quote.terms:
        story += [Spacer(1, 5 * mm), styles.para(_("Terms and conditions"), "label"), styles.para(quote.terms, "small")]
    if quote.valid_until:
        validity = _("This quote is valid until %(date)s.") % {"date": _date(quote.valid_until)}
        story += [Spacer(1, 5 * mm), styles.para(validity)]
    sign = Table(
        [
            [styles.para(_("Accepted by (name)"), "label"), "", styles.para(_("Date"), "label")],
            ["", "", ""],
            [styles.para(_("Signature"), "label"), "", ""],
        ],
        colWidths=[80 * mm, 10 * mm, 50 * mm],
        rowHeights=[None, 10 * mm, None],
        hAlign="LEFT",
    )
    sign.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 1), (0, 1), 0.5, INK),
                ("LINEBELOW", (2, 1), (2, 1), 0.5, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story += [Spacer(1, 10 * mm), KeepTogether([sign])]
    return story


def render_quote_pdf(quote: Quote, *, compress: bool = True) -> bytes:
    """The quote as a PDF document (``compress=False`` leaves the page contents readable as text)."""
    lines = list(quote.lines.select_related("product").order_by("position", "id"))
    styles = _Styles()
    buffer = io.BytesIO()
    title = _("Quote %(number)s") % {"number": quote.number}
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=22 * mm,
        title=title,
        author=company_name(),
        subject=quote.title or quote.deal.name,
        creator=company_name(),
        pageCompression=1 if compress else 0,
        invariant=1,
    )
    story = _header(quote, styles)
    story.append(_lines_table(quote, lines, styles))
    story += [Spacer(1, 4 * mm), _totals(quote, styles)]
    story += _closing(quote, styles)
    footer = f"{company_name()} · {title}"
    document.build(story, canvasmaker=_numbered_canvas(footer, styles))
    return buffer.getvalue()
