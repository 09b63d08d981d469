"""Zip bombs posing as office documents are refused without inflating them."""

import io
import struct
import tracemalloc
import zipfile

import pytest

from meetings.services import documents as svc
from tests.meetings.conftest import docx_bytes, odt_bytes

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
INFLATED_BYTES = 300 * 1024 * 1024
PEAK_LIMIT = 4 * 1024 * 1024


def _bomb() -> bytes:
    """An .odt whose `mimetype` entry inflates to 300 MB (about 300 KB on disk)."""
    buffer = io.BytesIO()
    zero = bytes(1024 * 1024)
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("mimetype")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as entry:
            entry.write(ODT_MIMETYPE)
            for _ in range(INFLATED_BYTES // len(zero)):
                entry.write(zero)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def _lying(data: bytes) -> bytes:
    """The same archive whose directory claims the entry is 40 bytes long."""
    start = zipfile.ZipFile(io.BytesIO(data)).start_dir
    assert data[start : start + 4] == b"PK\x01\x02"
    size_at = start + 24  # the central directory's uncompressed size
    return data[:size_at] + struct.pack("<L", 40) + data[size_at + 4 :]


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb()


def _peak_while(call) -> int:
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_the_bomb_is_small_on_disk_and_huge_inflated(bomb):
    assert len(bomb) < 400 * 1024
    info = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("mimetype")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert info.file_size > INFLATED_BYTES


@pytest.mark.parametrize("forge", [lambda d: d, _lying], ids=["declared", "lying"])
def test_a_mimetype_bomb_is_refused_reading_a_few_kilobytes(bomb, forge):
    data = forge(bomb)
    refusal = None

    def check():
        nonlocal refusal
        with pytest.raises(svc.Refusal) as caught:
            svc.check_upload(name="rapport.odt", data=data)
        refusal = caught.value

    peak = _peak_while(check)
    assert refusal.messages == [str(svc.FILE_CONTENT_MISMATCH)]
    assert peak < PEAK_LIMIT, f"{peak / 1e6:.1f} MB allocated to check the file"


def test_a_directory_of_a_hundred_thousand_entries_is_not_read():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for number in range(100_000):
            archive.writestr(zipfile.ZipInfo(f"word/{number}"), b"")
    data = buffer.getvalue()
    assert len(data) < svc.MAX_UPLOAD_BYTES

    peak = _peak_while(
        lambda: pytest.raises(svc.Refusal, svc.check_upload, name="a.docx", data=data)
    )
    assert peak < PEAK_LIMIT, f"{peak / 1e6:.1f} MB allocated to check the file"


def test_a_corrupt_mimetype_stream_is_a_mismatch_not_a_crash():
    data = bytearray(odt_bytes_deflated())
    start = data.index(b"mimetype") + len(b"mimetype")
    data[start : start + 8] = b"\xff" * 8  # garbage where the deflate stream begins
    with pytest.raises(svc.Refusal) as caught:
        svc.check_upload(name="rapport.odt", data=bytes(data))
    assert caught.value.messages == [str(svc.FILE_CONTENT_MISMATCH)]


def odt_bytes_deflated() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", ODT_MIMETYPE)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("note.odt", odt_bytes()),
        ("note.odt", odt_bytes_deflated()),
        ("note.docx", docx_bytes()),
    ],
)
def test_real_office_documents_still_pass(name, data):
    assert svc.check_upload(name=name, data=data).name == name
