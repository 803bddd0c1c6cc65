"""What an uploaded file is, decided by its content: each case with its exact outcome."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from crm.core.attachments import filetypes
from crm.core.attachments.responses import content_disposition
from crm.core.tests import attachment_samples as samples

ACCEPTED = filetypes.accepted_text()


def refusal(name: str, data: bytes) -> str:
    with pytest.raises(ValidationError) as caught:
        filetypes.inspect(samples.upload(name, data))
    assert len(caught.value.messages) == 1
    return caught.value.messages[0]


@pytest.mark.parametrize(
    ("name", "data", "kind", "mime_type"),
    [
        ("scan.pdf", samples.pdf(), "pdf", "application/pdf"),
        ("logo.png", samples.png(), "png", "image/png"),
        ("photo.jpg", samples.JPEG, "jpeg", "image/jpeg"),
        ("photo.JPEG", samples.JPEG, "jpeg", "image/jpeg"),
        ("anim.gif", samples.GIF, "gif", "image/gif"),
        ("pic.webp", samples.WEBP, "webp", "image/webp"),
        ("notes.txt", samples.TEXT, "text", "text/plain"),
        ("list.csv", samples.CSV, "csv", "text/csv"),
        ("list.tsv", b"a\tb\n1\t2\n", "tsv", "text/tab-separated-values"),
        ("gbk.csv", "名字,城市\n张三,北京\n".encode("gb18030"), "csv", "text/csv"),
        ("excel.txt", "\ufeffName\tCity\r\n".encode("utf-16"), "text", "text/plain"),
        ("letter.docx", samples.ooxml("word"), "docx", filetypes.KINDS["docx"].mime_type),
        ("book.xlsx", samples.xlsx(), "xlsx", filetypes.KINDS["xlsx"].mime_type),
        ("deck.pptx", samples.ooxml("ppt"), "pptx", filetypes.KINDS["pptx"].mime_type),
        ("text.odt", samples.opendocument("text"), "odt", "application/vnd.oasis.opendocument.text"),
        ("sheet.ods", samples.opendocument("spreadsheet"), "ods", "application/vnd.oasis.opendocument.spreadsheet"),
        ("slides.odp", samples.opendocument("presentation"), "odp", "application/vnd.oasis.opendocument.presentation"),
        ("bundle.zip", samples.plain_zip(), "zip", "application/zip"),
    ],
)
def test_accepted_files_are_recognised_by_content(name, data, kind, mime_type):
    # The browser's word (Content-Type) is ignored: here it claims something else entirely.
    found = filetypes.inspect(samples.upload(name, data, content_type="application/x-whatever"))
    assert (found.kind.key, found.kind.mime_type) == (kind, mime_type)
    assert found.name == name
    assert found.size == len(data)
    assert found.sha256 == hashlib.sha256(data).hexdigest()


def test_a_png_renamed_pdf_is_refused():
    assert (
        refusal("photo.pdf", samples.png()) == "“photo.pdf” says it is a PDF document but its content is a PNG image."
    )


def test_an_html_page_renamed_png_is_refused():
    message = refusal("cat.png", samples.HTML)
    assert message == "“cat.png” says it is a PNG image but its content is an HTML page."


def test_an_html_page_is_refused_even_with_leading_blank_lines_and_a_bom():
    message = refusal("page.txt", b"\xef\xbb\xbf\n\n  " + samples.HTML)
    assert message == "“page.txt” says it is plain text but its content is an HTML page."


def test_an_svg_is_refused_as_able_to_carry_scripts():
    message = refusal("logo.svg", samples.SVG)
    assert message == f"“logo.svg” cannot be attached: its content is an SVG image, which can carry scripts. {ACCEPTED}"


def test_an_svg_renamed_png_is_refused():
    message = refusal("logo.png", samples.SVG)
    assert message == "“logo.png” says it is a PNG image but its content is an SVG image, which can carry scripts."


def test_an_exe_is_refused():
    assert (
        refusal("setup.exe", samples.EXE)
        == f"“setup.exe” cannot be attached: its content is a Windows program. {ACCEPTED}"
    )


def test_an_exe_renamed_pdf_is_refused():
    assert (
        refusal("invoice.pdf", samples.EXE)
        == "“invoice.pdf” says it is a PDF document but its content is a Windows program."
    )


def test_an_empty_file_is_refused():
    assert refusal("empty.txt", b"") == "“empty.txt” is empty."


@override_settings(ATTACHMENT_MAX_BYTES=1000)
def test_a_file_over_the_limit_is_refused_with_the_limit_in_the_message():
    assert refusal("big.txt", b"a" * 1001) == "“big.txt” is larger than the limit of 1000\xa0bytes."
    assert filetypes.inspect(samples.upload("fits.txt", b"a" * 1000)).size == 1000


@override_settings(ATTACHMENT_MAX_BYTES=1000)
def test_the_limit_holds_when_the_file_does_not_say_its_size():
    """A stream without a size is measured while it is read, and reading stops past the limit."""

    class Endless(io.RawIOBase):
        read_bytes = 0

        def readable(self):
            return True

        def seekable(self):
            return True

        def seek(self, offset, whence=0):
            return 0

        def read(self, size=-1):
            self.read_bytes += size
            return b"a" * size

    stream = Endless()
    with pytest.raises(ValidationError) as caught:
        filetypes.inspect(stream, name="stream.txt")
    assert caught.value.messages == ["“stream.txt” is larger than the limit of 1000\xa0bytes."]
    assert stream.read_bytes == filetypes.CHUNK_SIZE  # one chunk, not the endless rest


def test_a_non_ascii_name_is_kept():
    found = filetypes.inspect(samples.upload("合同.pdf", samples.pdf()))
    assert found.name == "合同.pdf"
    assert found.kind.key == "pdf"


def test_a_path_in_the_name_is_dropped():
    found = filetypes.inspect(samples.upload("x.txt", samples.TEXT), name="../../etc/passwd.txt")
    assert found.name == "passwd.txt"
    found = filetypes.inspect(samples.upload("x.txt", samples.TEXT), name="C:\\Users\\me\\..\\notes.txt")
    assert found.name == "notes.txt"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..", ""),
        ("  ", ""),
        ("bad\x00name.txt", "badname.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # a right-to-left override cannot disguise the extension
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_clean_name(raw, clean):
    assert filetypes.clean_name(raw) == clean


def test_a_file_without_a_name_is_refused():
    with pytest.raises(ValidationError) as caught:
        filetypes.inspect(samples.upload("x.txt", samples.TEXT), name="..")
    assert caught.value.messages == ["The file has no name."]


def test_a_file_without_an_extension_is_refused():
    assert (
        refusal("README", samples.TEXT)
        == "“README” has no extension: name it after its type (its content is plain text)."
    )


def test_text_with_binary_data_further_on_is_refused():
    data = samples.TEXT * 5000 + b"\x00\x01\x02 payload"
    assert len(data) > filetypes.CHUNK_SIZE
    assert (
        refusal("notes.txt", data)
        == "“notes.txt” says it is plain text but its content is binary data of an unknown type."
    )


def test_an_office_file_with_macros_is_refused():
    message = refusal("budget.docx", samples.ooxml("word", macros=True))
    assert message == "“budget.docx” says it is a Word document but its content is an Office file with macros."


def test_a_plain_zip_named_docx_is_refused():
    assert (
        refusal("letter.docx", samples.plain_zip())
        == "“letter.docx” says it is a Word document but its content is a ZIP archive."
    )


def test_a_spreadsheet_named_docx_is_refused():
    assert (
        refusal("letter.docx", samples.xlsx())
        == "“letter.docx” says it is a Word document but its content is an Excel workbook."
    )


def test_a_damaged_zip_is_refused():
    message = refusal("bundle.zip", samples.plain_zip()[:40])
    assert message == "“bundle.zip” is damaged or incomplete: it cannot be read as a ZIP archive."


def test_a_truncated_png_is_refused():
    assert (
        refusal("cut.png", samples.png()[:-12])
        == "“cut.png” is damaged or incomplete: it cannot be read as a PNG image."
    )


def test_a_png_with_a_broken_header_is_refused():
    broken = bytearray(samples.png())
    broken[20] ^= 0xFF  # the height, under the header's checksum
    assert refusal("bad.png", bytes(broken)) == "“bad.png” is damaged or incomplete: it cannot be read as a PNG image."


def test_a_jpeg_without_a_frame_header_is_refused():
    assert refusal("bad.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20) == (
        "“bad.jpg” is damaged or incomplete: it cannot be read as a JPEG image."
    )


def test_other_binary_formats_are_named():
    assert refusal("tool", samples.ELF) == f"“tool” cannot be attached: its content is a program (ELF). {ACCEPTED}"
    bmp = b"BM" + b"\x00" * 60
    assert refusal("pic.bmp", bmp) == f"“pic.bmp” cannot be attached: its content is a BMP image. {ACCEPTED}"


def test_a_pdf_with_a_few_bytes_before_its_header_is_a_pdf():
    assert filetypes.inspect(samples.upload("scan.pdf", b"\x00\x00junk" + samples.pdf())).kind.key == "pdf"


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        ("合同.pdf", "attachment; filename=\"attachment.pdf\"; filename*=UTF-8''%E5%90%88%E5%90%8C.pdf"),
        (
            "Müller Angebot.pdf",
            "attachment; filename=\"Muller Angebot.pdf\"; filename*=UTF-8''M%C3%BCller%20Angebot.pdf",
        ),
        ('say "hi".txt', "attachment; filename=\"say _hi.txt\"; filename*=UTF-8''say%20%22hi%22.txt"),
        ("notes", 'attachment; filename="notes"'),
    ],
)
def test_content_disposition_follows_rfc_6266_and_5987(name, header):
    assert content_disposition("attachment", name) == header
