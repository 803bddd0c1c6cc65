"""A sound header for each image type we accept, checked without decoding the picture: a browser
then shows the file as the image it says it is (a truncated or forged header is refused)."""

from __future__ import annotations

import zlib
from typing import IO, Literal

_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def header_ok(stream: IO[bytes], kind: str, head: bytes, size: int) -> bool:
    """Whether an image of ``kind`` ("png", "jpeg", "gif", "webp") is sound; other kinds pass."""
    if kind == "png":
        return _png_ok(stream, head, size)
    if kind == "gif":
        return len(head) >= 13 and head[:6] in (b"GIF87a", b"GIF89a") and _dimensions(head[6:10], "little")
    if kind == "webp":
        riff_size = int.from_bytes(head[4:8], "little")
        return head[12:16] in (b"VP8 ", b"VP8L", b"VP8X") and riff_size >= 4 and riff_size + 8 <= size
    if kind == "jpeg":
        return _jpeg_ok(stream)
    return True


def _dimensions(raw: bytes, order: Literal["little", "big"]) -> bool:
    width, height = int.from_bytes(raw[:2], order), int.from_bytes(raw[2:4], order)
    return width > 0 and height > 0


def _png_ok(stream: IO[bytes], head: bytes, size: int) -> bool:
    """The header chunk comes first with its checksum right and a size, and the end chunk last."""
    if len(head) < 33 or head[8:16] != b"\x00\x00\x00\rIHDR":
        return False
    if zlib.crc32(head[12:29]) != int.from_bytes(head[29:33], "big"):
        return False
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if not (width and height):
        return False
    stream.seek(max(0, size - len(_PNG_END)))
    tail = stream.read(len(_PNG_END))
    stream.seek(0)
    return tail == _PNG_END


def _jpeg_ok(stream: IO[bytes], *, max_segments: int = 200) -> bool:
    """Walk the segments from the start to the frame header: it must be there, with a size."""
    stream.seek(2)
    try:
        for _segment in range(max_segments):
            marker = stream.read(2)
            while len(marker) == 2 and marker[0] == 0xFF and marker[1] == 0xFF:  # fill bytes
                marker = marker[1:] + stream.read(1)
            if len(marker) < 2 or marker[0] != 0xFF:
                return False
            code = marker[1]
            if 0xD0 <= code <= 0xD7 or code == 0x01:
                continue  # markers without a length
            length_bytes = stream.read(2)
            if len(length_bytes) < 2:
                return False
            length = int.from_bytes(length_bytes, "big")
            if length < 2:
                return False
            if code in _JPEG_FRAMES:
                frame = stream.read(5)
                return len(frame) == 5 and _dimensions(frame[1:5], "big")
            if code in {0xDA, 0xD9}:  # scan data, or the end, before any frame header
                return False
            stream.seek(length - 2, 1)
        return False
    finally:
        stream.seek(0)
