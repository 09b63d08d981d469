"""Minutes of a sitting, their versions, objections, decision records, print jobs."""

import hashlib
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from council.models import Body, canonical_json
from meetings.models import AgendaItem, Meeting

MINUTES_IMMUTABLE = _("Adopted minutes can no longer be changed.")
VERSION_IMMUTABLE = _("A version of the minutes is never changed.")
RECORD_IMMUTABLE = _("The content of a registered decision record never changes.")
RECORD_SIGNED_IMMUTABLE = _("A signed decision record can no longer be changed.")


def fingerprint_of(content: dict) -> str:
    """SHA-256 of the canonical JSON form: what the paper's fingerprint proves."""
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


class Minutes(models.Model):
    """The minutes of one sitting, from the draft to their adoption."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("minutes state", "Draft")
        AWAITING_ADOPTION = "awaiting", _("Approved by the DG, awaiting adoption")
        ADOPTED = "adopted", pgettext_lazy("minutes state", "Adopted")

    class AdoptionMethod(models.TextChoices):
        NO_OBJECTION = "no_objection", _("No objection")
        VOTE = "vote", _("Vote")

    meeting = models.OneToOneField(
        Meeting,
        on_delete=models.PROTECT,
        related_name="minutes",
        verbose_name=_("meeting"),
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.DRAFT
    )
    content = models.JSONField(_("content"), default=dict)
    version = models.PositiveIntegerField(_("version"), default=0)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(
        _("approved by the DG at"), null=True, blank=True
    )
    approval_item = models.OneToOneField(
        AgendaItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="approved_minutes",
        verbose_name=_("approval item"),
    )
    adopted_at = models.DateTimeField(_("adopted at"), null=True, blank=True)
    adoption_method = models.CharField(
        _("adopted by"), max_length=20, choices=AdoptionMethod.choices, blank=True
    )

    class Meta:
        verbose_name = _("minutes")
        verbose_name_plural = _("minutes")
        ordering = ["-meeting__starts_at"]

    def __str__(self) -> str:
        return str(self.meeting)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = (
                type(self)
                .objects.filter(pk=self.pk)
                .values_list("state", flat=True)
                .first()
            )
            if stored == self.State.ADOPTED:
                raise ValidationError(MINUTES_IMMUTABLE)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("minutes:minutes", args=[self.meeting_id])

    def delete(self, *args, **kwargs):
        if self.state == self.State.ADOPTED:
            raise ValidationError(MINUTES_IMMUTABLE)
        return super().delete(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def is_adopted(self) -> bool:
        return self.state == self.State.ADOPTED


class MinutesVersion(models.Model):
    """Every state of the minutes' content, kept for the diffs; append-only."""

    minutes = models.ForeignKey(
        Minutes,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("minutes"),
    )
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("content"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("version of the minutes")
        verbose_name_plural = _("versions of the minutes")
        ordering = ["minutes", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["minutes", "number"], name="unique_minutes_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.minutes} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(VERSION_IMMUTABLE)
        super().save(*args, **kwargs)


class Objection(models.Model):
    """A member's objection to the wording of the minutes (L1122-16)."""

    minutes = models.ForeignKey(
        Minutes,
        on_delete=models.PROTECT,
        related_name="objections",
        verbose_name=_("minutes"),
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("member"),
    )
    text = models.TextField(_("objection"))
    lodged_at = models.DateTimeField(_("lodged at"), auto_now_add=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["minutes", "lodged_at", "pk"]

    def __str__(self) -> str:
        return f"{self.member} — {self.minutes}"


class DecisionRecordQuerySet(models.QuerySet):
    def current(self):
        """Records not replaced by a correction."""
        return self.filter(superseded_by__isnull=True)


class DecisionRecord(models.Model):
    """The registered extract of one decision, as printed for wet-ink signature."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("record state", "Draft")
        APPROVED = "approved", _("Approved")
        PRINTED = "printed", _("Printed")
        SIGNED = "signed", _("Signed")
        SUPERSEDED = "superseded", _("Superseded")

    public_id = models.UUIDField(
        _("verification code"), default=uuid.uuid4, unique=True, editable=False
    )
    body = models.ForeignKey(
        Body, on_delete=models.PROTECT, related_name="+", verbose_name=_("body")
    )
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.PROTECT,
        related_name="decision_records",
        verbose_name=_("meeting"),
    )
    item = models.ForeignKey(
        AgendaItem,
        on_delete=models.PROTECT,
        related_name="decision_records",
        verbose_name=_("agenda item"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    reference = models.CharField(_("reference"), max_length=120, unique=True)
    closed_session = models.BooleanField(_("closed session"), default=False)
    content = models.JSONField(_("content"))
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    printed_at = models.DateTimeField(_("first printed at"), null=True, blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signatories = models.CharField(_("signatories"), max_length=500, blank=True)
    scan = models.FileField(_("signed scan"), upload_to="signed/%Y/", blank=True)
    signature_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signature recorded by"),
    )
    signature_recorded_at = models.DateTimeField(
        _("signature recorded at"), null=True, blank=True
    )

    objects = DecisionRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision record")
        verbose_name_plural = _("decision records")
        ordering = ["body", "year", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "year", "sequence"], name="unique_record_sequence"
            )
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = (
                type(self)
                .objects.filter(pk=self.pk)
                .values("fingerprint", "signed_on")
                .first()
            )
            if stored is not None:
                if stored["signed_on"] is not None:
                    raise ValidationError(RECORD_SIGNED_IMMUTABLE)
                if stored["fingerprint"] != self.fingerprint:
                    raise ValidationError(RECORD_IMMUTABLE)
        if self.fingerprint != fingerprint_of(self.content):
            raise ValidationError(RECORD_IMMUTABLE)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("minutes:verify", args=[self.public_id])

    def delete(self, *args, **kwargs):
        raise ValidationError(RECORD_IMMUTABLE)

    def verification_url(self) -> str:
        return settings.SITE_URL + self.get_absolute_url()

    @property
    def is_signed(self) -> bool:
        return self.signed_on is not None

    def state_given(self, *, superseded: bool, minutes_adopted: bool) -> str:
        """The state shown on the oversight page, from already-fetched facts."""
        if superseded:
            return self.State.SUPERSEDED
        if self.signed_on is not None:
            return self.State.SIGNED
        if self.printed_at is not None:
            return self.State.PRINTED
        if minutes_adopted:
            return self.State.APPROVED
        return self.State.DRAFT


class PrintJob(models.Model):
    """A batch PDF rendered in the background; the page polls its progress."""

    class Kind(models.TextChoices):
        DECISIONS = "decisions", _("All decision extracts of the sitting")
        MINUTES = "minutes", _("Minutes")
        REGISTER = "register", _("Attendance register")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Rendering")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,
        related_name="print_jobs",
        verbose_name=_("meeting"),
    )
    kind = models.CharField(_("document"), max_length=20, choices=Kind.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PENDING
    )
    total = models.PositiveIntegerField(_("parts"), default=0)
    done = models.PositiveIntegerField(_("parts done"), default=0)
    file = models.FileField(_("file"), upload_to="print-jobs/%Y/", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.meeting}"

    def get_absolute_url(self) -> str:
        return reverse("minutes:print_job", args=[self.pk])

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0
