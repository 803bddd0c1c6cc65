"""Small, real files of each kind the attachment checks must tell apart (made here, nothing fetched)."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 2, height: int = 2) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows)) + _chunk(b"IEND", b"")


JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////"
    "////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="
)
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")


def pdf(text: str = "Hello") -> bytes:
    """A one-page PDF with a proper cross-reference table."""
    content = f"BT /F1 24 Tf 30 120 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _zip(entries: list[tuple[str, bytes]], *, stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            method = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return out.getvalue()


_CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def ooxml(folder: str, *, macros: bool = False) -> bytes:
    """The skeleton of a .docx ("word"), .xlsx ("xl") or .pptx ("ppt") package."""
    entries = [
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", b"<Relationships/>"),
        ("docProps/core.xml", b"<coreProperties/>"),
        ("docProps/app.xml", b"<Properties/>"),
        (f"{folder}/_rels/document.xml.rels", b"<Relationships/>"),
        (f"{folder}/document.xml", b"<document/>"),
    ]
    if macros:
        entries.append((f"{folder}/vbaProject.bin", b"\xd0\xcf\x11\xe0macro"))
    return _zip(entries)


def xlsx() -> bytes:
    """A real workbook written by openpyxl."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Name", "Amount"])
    book.active.append(["Acme", 12])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def opendocument(kind: str) -> bytes:
    """An OpenDocument package: "text", "spreadsheet" or "presentation"."""
    mimetype = f"application/vnd.oasis.opendocument.{kind}".encode()
    return _zip(
        [("mimetype", mimetype), ("content.xml", b"<office:document-content/>"), ("META-INF/manifest.xml", b"<m/>")],
        stored_first=True,
    )


def plain_zip() -> bytes:
    return _zip([("notes.txt", b"hello"), ("data/list.csv", b"a,b\n1,2\n")])


EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode."
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>'
TEXT = b"Notes from the call.\nThey want the quote by Friday.\n"
CSV = "name,city\nAcme,Berlin\n北京公司,北京\n".encode()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    """An uploaded file as a browser sends it: the content type is whatever the browser says."""
    return SimpleUploadedFile(name, data, content_type=content_type)


DEFAULT_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
WITH_LIMIT_HANDLER = ["crm.core.attachments.uploads.AttachmentUploadHandler", *DEFAULT_UPLOAD_HANDLERS]


def stored_files(root) -> list:
    """Every file under the test's media folder."""
    return sorted(path for path in root.rglob("*") if path.is_file())
