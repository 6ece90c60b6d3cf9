"""An attachment's type is read from its bytes: the six accepted kinds of file are recognised
from small samples made here by hand, and anything else — an executable renamed ``photo.jpg``,
a ZIP that is not a Word document, a self-extracting program, text — is not.

The samples (``sample``) are shared with the API and store suites; each carries ``MARKER``, a
text that must never appear in plain anywhere the system stores data.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from api.http.media_types import ACCEPTED_NAMES, DOCX, JPEG, M4A, MP3, PDF, PNG, sniff

MARKER = b"FENGQIAO-PLAIN-ATTACHMENT-MARKER-7f3a9c"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(48)


def jpeg(payload: bytes = MARKER) -> bytes:
    """SOI, a JFIF APP0 segment, a comment holding ``payload``, EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    comment = payload
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + b"\xff\xd9"
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(payload: bytes = MARKER) -> bytes:
    """A 1×1 grey image, with ``payload`` in a tEXt chunk."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"tEXt", b"Comment\x00" + payload)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _png_chunk(b"IEND", b"")
    )


def pdf(payload: bytes = MARKER) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% " + payload + b"\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def docx(payload: bytes = MARKER, document: bool = True) -> bytes:
    """A Word document's minimal parts, stored (not deflated) so ``payload`` is in plain."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        if document:
            text = payload.decode()
            archive.writestr("word/document.xml", f"<w:document><w:t>{text}</w:t></w:document>")
        else:
            archive.writestr("notes.txt", payload)
    return buffer.getvalue()


def mp3(payload: bytes = MARKER, id3: bool = True) -> bytes:
    """An ID3v2.4 tag holding ``payload`` (a TXXX frame), then one MPEG-1 layer III frame
    (128 kbit/s, 44.1 kHz: 417 bytes)."""
    frame = b"\x03desc\x00" + payload
    tag_body = b"TXXX" + bytes([0, 0, 0, len(frame)]) + b"\x00\x00" + frame
    size = len(tag_body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    tag = b"ID3\x04\x00\x00" + syncsafe + tag_body if id3 else b""
    audio = b"\xff\xfb\x90\x64" + bytes(413)
    return tag + audio + (b"" if id3 else payload)


def m4a(payload: bytes = MARKER, brand: bytes = b"M4A ") -> bytes:
    """An ``ftyp`` box naming ``brand``, a ``free`` box holding ``payload``, an empty
    ``mdat``."""
    ftyp = b"ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"isom"
    free = b"free" + payload
    return (
        struct.pack(">I", len(ftyp) + 4)
        + ftyp
        + struct.pack(">I", len(free) + 4)
        + free
        + struct.pack(">I", 8)
        + b"mdat"
    )


# name → (a file of that kind, its media type, the name a phone or scanner would give it)
SAMPLES = {
    "jpeg": (jpeg, JPEG, "现场照片.jpg"),
    "png": (png, PNG, "screenshot.png"),
    "pdf": (pdf, PDF, "调解协议书.pdf"),
    "docx": (docx, DOCX, "调解笔录.docx"),
    "mp3": (mp3, MP3, "电话录音.mp3"),
    "m4a": (m4a, M4A, "调解录音.m4a"),
}


def sample(kind: str, payload: bytes = MARKER) -> bytes:
    make, _, _ = SAMPLES[kind]
    return make(payload)


@pytest.mark.parametrize("kind", SAMPLES)
def test_each_accepted_kind_is_recognised_by_its_bytes(kind: str) -> None:
    _, media_type, _ = SAMPLES[kind]

    assert sniff(sample(kind)) == media_type


def test_an_mp3_without_a_tag_is_recognised_by_its_frame_header() -> None:
    assert sniff(mp3(id3=False)) == MP3


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("an ELF executable", ELF + MARKER),
        ("a Windows executable", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56) + MARKER),
        ("a shell script", b"#!/bin/sh\nrm -rf /\n"),
        ("plain text", "调解协议".encode()),
        ("nothing", b""),
        ("a ZIP that is not a Word document", docx(document=False)),
        ("a self-extracting program (an executable, then a DOCX)", ELF + docx()),
        ("a truncated ZIP", docx()[:40]),
        ("JPEG's magic elsewhere than at the start", b" " + jpeg()),
        ("PNG's signature without its header chunk", b"\x89PNG\r\n\x1a\n" + bytes(16)),
        ("an MPEG layer II frame", b"\xff\xfd\x90\x64" + bytes(413)),
        ("a frame header with the forbidden bitrate", b"\xff\xfb\xf0\x64" + bytes(413)),
        ("an ID3 tag with nothing after it", mp3()[: mp3().index(b"\xff\xfb")]),
        ("an MP4 video (brand mp42, not M4A)", m4a(brand=b"mp42")),
        ("an ftyp box whose size lies", b"\xff\xff\xff\xffftypM4A " + bytes(16)),
    ],
)
def test_anything_else_is_not_recognised(name: str, data: bytes) -> None:
    assert sniff(data) is None, name


def test_a_refusal_can_name_what_is_accepted() -> None:
    assert ACCEPTED_NAMES == "JPEG, PNG, PDF, DOCX, MP3, M4A"
