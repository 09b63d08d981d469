"""Models of the preparation of a meeting: documents, convocations, members' items."""

__all__ = ["Document", "Convocation", "ItemSubmission", "document_upload_to"]

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from meetings.models.core import AgendaItem, Meeting


def document_upload_to(instance: "Document", filename: str) -> str:
    # The stored name is ours alone: the uploader's name is only ever shown,
    # so no path, separator or control character from it reaches the disk.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"meetings/{instance.item.meeting_id}/{uuid.uuid4().hex}.{extension}"


class Document(models.Model):
    """A file attached to an agenda item, served only through a permission check."""

    item = models.ForeignKey(
        AgendaItem,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("agenda item"),
    )
    title = models.CharField(_("title"), max_length=300, blank=True)
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=120)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["item", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.display_title

    def get_absolute_url(self) -> str:
        return reverse("meetings:document_download", args=[self.pk, self.original_name])

    @property
    def display_title(self) -> str:
        return self.title or self.original_name


class Convocation(models.Model):
    """The convocation sent to one member for one meeting, and its delivery.

    The background job sends the pending ones; a failed send stays pending
    with its error and the time of the next attempt, until the attempts run
    out (then it is failed, and the clerk may try again).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not sent")

    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,
        related_name="convocations",
        verbose_name=_("meeting"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="convocations",
        verbose_name=_("member"),
    )
    email = models.EmailField(_("sent to"))
    language = models.CharField(_("language"), max_length=2)
    created_at = models.DateTimeField(_("prepared at"))
    status = models.CharField(
        _("delivery"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.CharField(_("sending error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("convocation")
        verbose_name_plural = _("convocations")
        ordering = ["meeting", "person"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "person"], name="unique_convocation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.meeting}"


class ItemSubmission(models.Model):
    """An item a member asks to add to the agenda (L1122-24)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the clerk")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,
        related_name="submissions",
        verbose_name=_("meeting"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="item_submissions",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    title = models.CharField(_("title"), max_length=500)
    explanatory_note = models.TextField(_("explanatory note"))
    draft_decision = models.TextField(_("draft decision"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    item = models.OneToOneField(
        AgendaItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="submission",
        verbose_name=_("agenda item"),
    )

    class Meta:
        verbose_name = _("member's item")
        verbose_name_plural = _("members' items")
        ordering = ["meeting", "submitted_at", "pk"]

    def __str__(self) -> str:
        return self.title
