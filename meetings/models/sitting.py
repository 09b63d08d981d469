"""Models of the live sitting: the floor, the speaker queue, the snapshot version."""

__all__ = ["SittingState", "FloorRequest", "LiveConnection"]

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from meetings.models.core import AgendaItem, Meeting


class SittingState(models.Model):
    """The sitting's snapshot version counter and the last snapshot pushed.

    ``version`` is bumped in the transaction of every change, so versions are
    global across server processes. ``published_*`` is what clients were last
    sent; a publisher records a push only if the last one is still the one it
    diffed against, so updates form one chain (``prev`` -> ``version``)
    whichever process sends them. ``public_version`` is the version of the
    last push that changed what the public sees: the public stream gets no
    message, and its clients no new version, for a change it cannot see.
    """

    meeting = models.OneToOneField(
        Meeting,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="sitting_state",
        verbose_name=_("meeting"),
    )
    version = models.PositiveBigIntegerField(_("version"), default=1)
    published_version = models.PositiveBigIntegerField(
        _("published version"), default=0
    )
    public_version = models.PositiveBigIntegerField(_("public version"), default=0)
    members_json = models.TextField(_("members' snapshot"), blank=True)
    public_json = models.TextField(_("public snapshot"), blank=True)

    class Meta:
        verbose_name = _("sitting state")
        verbose_name_plural = _("sitting states")

    def __str__(self) -> str:
        return f"{self.meeting_id} v{self.version}"


class FloorRequest(models.Model):
    """A member's request for the floor on an item, and the speech if granted."""

    class Kind(models.TextChoices):
        CONTRIBUTION = "contribution", _("Contribution")
        REPLY = "reply", _("Reply")
        POINT_OF_ORDER = "point_of_order", _("Point of order")

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        SPEAKING = "speaking", _("Speaking")
        SPOKEN = "spoken", _("Spoken")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        DROPPED = "dropped", _("Dropped")

    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,
        related_name="floor_requests",
        verbose_name=_("meeting"),
    )
    item = models.ForeignKey(
        AgendaItem,
        on_delete=models.CASCADE,
        related_name="floor_requests",
        verbose_name=_("agenda item"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="floor_requests",
        verbose_name=_("member"),
    )
    # The group at the time of speaking: the minutes keep it if mandates change.
    group = models.CharField(_("political group"), max_length=20, blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.CONTRIBUTION
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    requested_at = models.DateTimeField(_("asked at"))
    granted_at = models.DateTimeField(_("floor given at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("floor taken at"), null=True, blank=True)
    limit_seconds = models.PositiveIntegerField(_("speaking time"), default=0)
    seconds = models.PositiveIntegerField(_("seconds spoken"), default=0)
    out_of_turn = models.BooleanField(_("given out of turn"), default=False)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("floor given by"),
    )

    class Meta:
        verbose_name = _("request for the floor")
        verbose_name_plural = _("requests for the floor")
        ordering = ["meeting", "requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "person"],
                condition=Q(status="waiting"),
                name="one_waiting_request_per_item",
            ),
            models.UniqueConstraint(
                fields=["meeting"],
                condition=Q(status="speaking"),
                name="one_speaker_per_meeting",
            ),
        ]
        indexes = [models.Index(fields=["meeting", "status"])]

    def __str__(self) -> str:
        return (
            f"{self.person} — {self.get_kind_display()} ({self.get_status_display()})"
        )


class LiveConnectionQuerySet(models.QuerySet):
    def online(self, at: datetime.datetime | None = None):
        """Leases not expired at ``at`` (now): the connections that count."""
        return self.filter(expires_at__gt=at or timezone.now())

    def expired(self, at: datetime.datetime | None = None):
        return self.filter(expires_at__lte=at or timezone.now())


class LiveConnection(models.Model):
    """A lease on a member's presence, held by one open page of the sitting.

    The server process holding the socket (``server``, and ``boot``, the token
    of that process's incarnation) renews ``expires_at`` while the page keeps
    talking; a lease counts only until it expires, so a process that dies
    takes its members' presence with it after one lease period, and the rows
    it left are swept (``meetings.live.presence``).
    """

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="+", verbose_name=_("meeting")
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("member"),
    )
    channel_name = models.CharField(_("channel"), max_length=200, unique=True)
    connected_at = models.DateTimeField(_("connected at"))
    server = models.CharField(_("server process"), max_length=200)
    boot = models.CharField(_("process start token"), max_length=32)
    expires_at = models.DateTimeField(_("expires at"))

    objects = LiveConnectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("live connection")
        verbose_name_plural = _("live connections")
        indexes = [
            models.Index(fields=["meeting", "person"]),
            models.Index(fields=["server", "boot"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.meeting_id} ({self.server})"
