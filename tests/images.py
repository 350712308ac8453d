"""Small real image files built in code (no imaging library): a valid PNG of any declared size
and a JPEG header with its frame size, for the evidence checks that read image dimensions."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 1, height: int = 1) -> bytes:
    """A PNG whose header says ``width`` × ``height``. For 1×1 (the default) it is a complete,
    valid image; for huge sizes only the header is true — that is what a pixel flood is."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00" if (width, height) == (1, 1) else b"\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def jpeg(width: int = 1, height: int = 1) -> bytes:
    """The markers of a baseline JPEG up to its frame header (SOF0 with ``width`` × ``height``),
    then a scan and the end marker; enough for anything that reads a JPEG's size."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
        + b"\xff\xc0" + struct.pack(">H", len(sof0) + 2) + sof0
        + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x00" * 16
        + b"\xff\xd9"
    )  # fmt: skip


def jpeg_of_size(size: int) -> bytes:
    """A valid JPEG header (1 × 1) whose scan data fills the file up to ``size`` bytes."""
    data = jpeg()
    return data[:-2] + b"\x00" * (size - len(data)) + data[-2:]


def jpeg_marker_flood(size: int) -> bytes:
    """The start of a JPEG followed by empty comment segments (FF FE 00 02) up to ``size``
    bytes and no frame header: a reader that walks it marker by marker does millions of steps."""
    return b"\xff\xd8" + b"\xff\xfe\x00\x02" * ((size - 2) // 4)
