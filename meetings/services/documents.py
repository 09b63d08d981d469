"""Documents of agenda items: checked on the way in, permission-checked on the way
out.

A file is accepted only when its extension is one we allow AND its first bytes
(and, for zip-based office files, its inner layout) say it is that kind of
file. The name the uploader gave is cleaned for display only; the stored name
is a random one of our making.
"""

import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.permissions import NOT_ALLOWED, Action, can, require
from council.refusals import Refusal
from meetings.models import AgendaItem, Document, Meeting

MAX_UPLOAD_BYTES = getattr(settings, "MEETINGS_MAX_UPLOAD_BYTES", 25 * 1024 * 1024)

FILE_TOO_LARGE = _("The file is too large (at most %(limit)s MB).")
FILE_EMPTY = _("The file is empty.")
FILE_TYPE_REFUSED = _(
    "Only PDF and office documents are accepted (pdf, odt, ods, odp, docx, xlsx, "
    "pptx, doc, xls, ppt)."
)
FILE_CONTENT_MISMATCH = _("The file's content does not match its extension.")
FILE_NAME_INVALID = _("The file name is not usable.")
AGENDA_LOCKED = _("The documents of this meeting can no longer be changed.")

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ODF_MIMETYPES = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
    "odp": b"application/vnd.oasis.opendocument.presentation",
}
OOXML_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
MAX_NAME_LENGTH = 150
# An ODF package's `mimetype` entry is one short line. Its declared size is
# checked and at most this much of it is ever inflated, whatever the archive
# claims: a few hundred compressed kilobytes can inflate to hundreds of MB.
ODF_MIMETYPE_MAX_BYTES = 100
# Reading an archive's directory builds an object per entry: an office
# document's directory is a few kilobytes, a forged one of many empty
# entries would cost megabytes of memory and seconds of CPU.
ZIP_DIRECTORY_MAX_BYTES = 1024 * 1024


def clean_file_name(name: str) -> str:
    """A display name without path, control characters or odd punctuation."""
    name = unicodedata.normalize("NFKC", name or "")
    # Keep only the last path component, whichever separator the client used.
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"[^\w.\- ()]+", "_", name, flags=re.UNICODE)
    name = re.sub(r"\s+", " ", name).strip(" ._-")
    if "." not in name:
        raise Refusal(FILE_NAME_INVALID, code="name")
    stem, extension = name.rsplit(".", 1)
    stem = stem.strip(" ._-")[: MAX_NAME_LENGTH - len(extension) - 1]
    if not stem or not extension:
        raise Refusal(FILE_NAME_INVALID, code="name")
    return f"{stem}.{extension.lower()}"


def _odf_kind(archive: zipfile.ZipFile) -> str | None:
    """The ODF kind its `mimetype` entry names, reading at most a few bytes."""
    info = archive.getinfo("mimetype")
    if info.file_size > ODF_MIMETYPE_MAX_BYTES:
        return None
    with archive.open(info) as entry:
        mimetype = entry.read(ODF_MIMETYPE_MAX_BYTES + 1)
    if len(mimetype) > ODF_MIMETYPE_MAX_BYTES:
        return None
    mimetype = mimetype.strip()
    for extension, expected in ODF_MIMETYPES.items():
        if mimetype == expected:
            return extension
    return None


def _zip_kind(data: bytes) -> str | None:
    try:
        stream = io.BytesIO(data)
        end = zipfile._EndRecData(stream)  # the record ZipFile itself reads
        if end is None or end[zipfile._ECD_SIZE] > ZIP_DIRECTORY_MAX_BYTES:
            return None
        archive = zipfile.ZipFile(stream)
        names = archive.namelist()
        if "mimetype" in names:
            kind = _odf_kind(archive)
            if kind:
                return kind
        if "[Content_Types].xml" in names:
            for extension, prefix in OOXML_PARTS.items():
                if any(entry.startswith(prefix) for entry in names):
                    return extension
    except (
        zipfile.BadZipFile,
        zlib.error,  # a corrupt deflate stream
        EOFError,  # a truncated one
        OSError,
        KeyError,
        RuntimeError,
        ValueError,
    ):
        return None
    return None


def sniff(data: bytes) -> set[str]:
    """The extensions the content may honestly carry."""
    if data.startswith(b"%PDF-"):
        return {"pdf"}
    if data.startswith(OLE_MAGIC):
        return {"doc", "xls", "ppt"}
    if data.startswith(ZIP_MAGIC):
        kind = _zip_kind(data)
        return {kind} if kind else set()
    return set()


@dataclass(frozen=True)
class CheckedFile:
    name: str
    extension: str
    content_type: str
    data: bytes


def check_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise Refusal(
            FILE_TOO_LARGE,
            code="size",
            params={"limit": MAX_UPLOAD_BYTES // (1024 * 1024)},
        )


def check_upload(*, name: str, data: bytes) -> CheckedFile:
    check_size(len(data))
    if not data:
        raise Refusal(FILE_EMPTY, code="empty")
    clean = clean_file_name(name)
    extension = clean.rsplit(".", 1)[1]
    if extension not in CONTENT_TYPES:
        raise Refusal(FILE_TYPE_REFUSED, code="type")
    if extension not in sniff(data):
        raise Refusal(FILE_CONTENT_MISMATCH, code="content")
    return CheckedFile(clean, extension, CONTENT_TYPES[extension], data)


def document_upload(
    *, item: AgendaItem, by, name: str, data: bytes, title: str = ""
) -> Document:
    require(by, Action.PREPARE_MEETINGS, item.meeting.body)
    checked = check_upload(name=name, data=data)
    with transaction.atomic():
        meeting = Meeting.objects.lock(item.meeting_id)
        if not meeting.is_editable:
            raise Refusal(AGENDA_LOCKED, code="agenda_locked")
        document = Document(
            item=item,
            title=title.strip()[:300],
            original_name=checked.name,
            content_type=checked.content_type,
            size=len(checked.data),
            sha256=hashlib.sha256(checked.data).hexdigest(),
            uploaded_by=by,
            uploaded_at=timezone.now(),
        )
        document.file.save(checked.name, ContentFile(checked.data), save=False)
        # A failed save must not leave an orphan file behind.
        stored = document.file.name
        try:
            document.save()
            audit_record(
                by=by,
                action="document.upload",
                obj=document,
                body=meeting.body,
                details={
                    "item": item.pk,
                    "name": document.original_name,
                    "size": document.size,
                    "sha256": document.sha256,
                },
            )
        except Exception:
            document.file.storage.delete(stored)
            raise
    return document


def document_delete(*, document: Document, by) -> None:
    meeting = document.item.meeting
    require(by, Action.PREPARE_MEETINGS, meeting.body)
    with transaction.atomic():
        locked = Meeting.objects.lock(meeting.pk)
        if not locked.is_editable:
            raise Refusal(AGENDA_LOCKED, code="agenda_locked")
        audit_record(
            by=by,
            action="document.delete",
            obj=document,
            body=meeting.body,
            details={"name": document.original_name, "sha256": document.sha256},
        )
        stored = document.file.name
        document.delete()
        storage = document.file.storage
        transaction.on_commit(lambda: storage.delete(stored))


def may_read_meeting(user, meeting: Meeting) -> bool:
    """Public part of a meeting: everyone once convened; drafts: clerk and DG."""
    if meeting.is_published:
        return True
    return can(user, Action.VIEW_PREPARATION, meeting.body)


def may_read_item(user, item: AgendaItem, meeting: Meeting) -> bool:
    if not may_read_meeting(user, meeting):
        return False
    if item.is_closed_session:
        return can(user, Action.VIEW_CLOSED_SESSION, meeting.body)
    return True


def may_read_document(user, document: Document) -> bool:
    item = document.item
    return may_read_item(user, item, item.meeting)


def document_open(*, document: Document, by):
    """The stored file for a reader allowed to have it; closed ones are audited."""
    item = document.item
    meeting = item.meeting
    if not may_read_document(by, document):
        raise PermissionDenied(NOT_ALLOWED)
    if item.is_closed_session:
        with transaction.atomic():
            audit_record(
                by=by,
                action="document.download_closed",
                obj=document,
                body=meeting.body,
                details={"item": item.pk, "name": document.original_name},
            )
    return document.file.open("rb")
