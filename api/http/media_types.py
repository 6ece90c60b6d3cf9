"""What an attachment is, read from its bytes: never from its name or the Content-Type a client
declares, which say whatever the sender wants (an executable renamed ``photo.jpg``).

A few magic bytes decide, checked a little beyond the magic where a false match would be cheap
to make: a DOCX is a ZIP that starts at byte 0 (no self-extracting program in front) and holds
``word/document.xml``; an MP3 starts with a valid MPEG audio layer III frame header (after an
ID3v2 tag, if any); an M4A is an ISO media file whose ``ftyp`` box names the ``M4A `` brand.
Anything else is refused. Extending the list is one ``Sniffer`` more.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MP3 = "audio/mpeg"
M4A = "audio/mp4"


@dataclass(frozen=True)
class Sniffer:
    name: str  # what a refusal tells the client is accepted
    media_type: str
    matches: Callable[[bytes], bool]


def _jpeg(data: bytes) -> bool:
    return data.startswith(b"\xff\xd8\xff")  # SOI, then the first marker


def _png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")  # signature, IHDR first


def _pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-")


def _docx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())  # the central directory only: nothing unpacked
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return {"[Content_Types].xml", "word/document.xml"} <= names


def _id3_length(data: bytes) -> int:
    """The length of an ID3v2 tag at the start (its size is 4 bytes of 7 bits), or 0."""
    if len(data) < 10 or not data.startswith(b"ID3") or data[3] == 0xFF or data[4] == 0xFF:
        return 0
    size = data[6:10]
    if any(byte & 0x80 for byte in size):
        return 0
    footer = 10 if data[5] & 0x10 else 0
    return 10 + footer + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])


def _mp3(data: bytes) -> bool:
    """An MPEG audio layer III frame header: 11 sync bits, a known version, layer III, a
    bitrate that is neither "free" nor the forbidden one, a known sample rate."""
    start = _id3_length(data)
    header = data[start : start + 4]
    if len(header) < 4:
        return False
    (word,) = struct.unpack(">I", header)
    sync = word >> 21 == 0x7FF
    version = (word >> 19) & 0b11  # 01 is reserved
    layer = (word >> 17) & 0b11  # 01 is layer III
    bitrate = (word >> 12) & 0b1111
    rate = (word >> 10) & 0b11
    return sync and version != 0b01 and layer == 0b01 and bitrate not in (0, 15) and rate != 3


def _m4a(data: bytes) -> bool:
    """An ``ftyp`` box first, naming ``M4A `` as its major or a compatible brand."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    (size,) = struct.unpack(">I", data[:4])
    if not 16 <= size <= min(len(data), 4096) or size % 4:
        return False
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, size, 4)]
    return b"M4A " in brands


# What an attachment may be, in the order they are tried.
ACCEPTED = (
    Sniffer("JPEG", JPEG, _jpeg),
    Sniffer("PNG", PNG, _png),
    Sniffer("PDF", PDF, _pdf),
    Sniffer("DOCX", DOCX, _docx),
    Sniffer("MP3", MP3, _mp3),
    Sniffer("M4A", M4A, _m4a),
)
ACCEPTED_NAMES = ", ".join(sniffer.name for sniffer in ACCEPTED)
ACCEPTED_MEDIA_TYPES = tuple(sniffer.media_type for sniffer in ACCEPTED)


def sniff(data: bytes) -> str | None:
    """The media type of ``data`` by its content, or None when it is none of ``ACCEPTED``."""
    return next((s.media_type for s in ACCEPTED if s.matches(data)), None)
