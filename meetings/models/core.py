"""Meetings, their agenda, and the attendance register of a sitting."""

__all__ = [
    "Meeting",
    "AgendaItem",
    "AttendanceEvent",
    "Recusal",
    "new_video_room",
    "PHYSICAL_MODES",
]

import datetime
import secrets
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from council.models import Body
from meetings.models.managers import MeetingQuerySet


def new_video_room() -> str:
    # Unguessable: knowing one room name tells nothing about another.
    return "council-" + secrets.token_urlsafe(18)


class Meeting(models.Model):
    """A sitting of a body, from its draft agenda to its close."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        REMOTE = "remote", _("Remote")
        HYBRID = "hybrid", _("Hybrid")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONVENED = "convened", _("Convened")
        IN_SESSION = "in_session", _("In session")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    # The state machine: each transition, the states it may start from and the
    # state it leads to. Open and resume both lead to "in session": they are
    # told apart by where they start.
    TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
        "convene": (frozenset({State.DRAFT}), State.CONVENED),
        "open": (frozenset({State.CONVENED}), State.IN_SESSION),
        "suspend": (frozenset({State.IN_SESSION}), State.SUSPENDED),
        "resume": (frozenset({State.SUSPENDED}), State.IN_SESSION),
        "close": (frozenset({State.IN_SESSION, State.SUSPENDED}), State.CLOSED),
    }
    LIVE_STATES = frozenset({State.IN_SESSION, State.SUSPENDED})
    # Votes are cast only in session: an open poll of a suspended sitting
    # stays open and takes ballots again once the chair resumes.
    BALLOT_STATES = frozenset({State.IN_SESSION})
    EDITABLE_STATES = frozenset({State.DRAFT, State.CONVENED})

    class VideoProvider(models.TextChoices):
        NONE = "none", _("No video")
        JITSI = "jitsi", _("Jitsi Meet")
        EXTERNAL = "external", _("External link (Teams, Webex...)")

    body = models.ForeignKey(
        Body, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("body")
    )
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    starts_at = models.DateTimeField(_("start"))
    expected_end = models.DateTimeField(_("expected end"), null=True, blank=True)
    mode = models.CharField(
        _("mode"), max_length=20, choices=Mode.choices, default=Mode.IN_PERSON
    )
    place = models.CharField(_("place"), max_length=300, blank=True)
    video_provider = models.CharField(
        _("video"),
        max_length=20,
        choices=VideoProvider.choices,
        default=VideoProvider.NONE,
    )
    video_room = models.CharField(
        _("video room"), max_length=100, default=new_video_room, editable=False
    )
    video_url = models.URLField(_("external video link"), blank=True)
    livestream_url = models.URLField(_("public livestream"), blank=True)
    remote_reason = models.TextField(_("why the sitting is held remotely"), blank=True)
    remote_tool = models.CharField(_("tool used"), max_length=200, blank=True)
    remote_instructions = models.TextField(_("how to connect"), blank=True)
    convocation_round = models.PositiveSmallIntegerField(
        _("convocation round"),
        choices=[(1, _("First")), (2, _("Second")), (3, _("Third"))],
        default=1,
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.DRAFT
    )
    current_item = models.ForeignKey(
        "AgendaItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current item"),
    )
    closed_session = models.BooleanField(_("in closed session"), default=False)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    convened_at = models.DateTimeField(_("convened at"), null=True, blank=True)
    convened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("convened by"),
    )
    urgent = models.BooleanField(
        _("urgent convocation"),
        default=False,
        help_text=_("Sent later than the legal notice, for the reason given."),
    )
    urgency_reason = models.TextField(_("reason for the urgency"), blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "number"], name="unique_meeting_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.body} — {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("meetings:meeting_detail", args=[self.pk])

    def can_transition(self, name: str) -> bool:
        """May the meeting take the transition ``name`` from its current state?"""
        sources, _target = self.TRANSITIONS[name]
        return self.state in sources

    # Templates cannot pass an argument: one question per transition.
    def can_convene(self) -> bool:
        return self.can_transition("convene")

    def can_open(self) -> bool:
        return self.can_transition("open")

    def can_suspend(self) -> bool:
        return self.can_transition("suspend")

    def can_resume(self) -> bool:
        return self.can_transition("resume")

    def can_close(self) -> bool:
        return self.can_transition("close")

    @property
    def is_live(self) -> bool:
        return self.state in self.LIVE_STATES

    def accepts_ballots(self) -> bool:
        """May a ballot be cast now: not while suspended, not once closed."""
        return self.state in self.BALLOT_STATES

    @property
    def is_physical(self) -> bool:
        """In person or hybrid: counts towards the ten physical sittings."""
        return self.mode in PHYSICAL_MODES

    @property
    def is_remote_or_hybrid(self) -> bool:
        return self.mode in {self.Mode.REMOTE, self.Mode.HYBRID}

    @property
    def is_published(self) -> bool:
        """Convened or later: the public may read its public part."""
        return self.state != self.State.DRAFT

    @property
    def is_editable(self) -> bool:
        """The clerk may still change the agenda and documents."""
        return self.state in self.EDITABLE_STATES

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.body.time_zone)

    @property
    def local_start(self) -> datetime.datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def sitting_day(self) -> datetime.date:
        """The calendar day of the sitting in the body's time zone."""
        return self.local_start.date()

    def members_in_office(self):
        """The body's members (voting mandates) in office on the sitting's day.

        The one definition of "in office for this sitting": convocations, the
        register, quorum and the minutes all ask here.
        """
        # The sitting's day in the body's time zone, not the server's: with
        # TIME_ZONE elsewhere, a mandate starting or ending that day would
        # count for the convocations and not for the quorum.
        return self.body.members_in_office(on=self.sitting_day)


PHYSICAL_MODES = frozenset({Meeting.Mode.IN_PERSON, Meeting.Mode.HYBRID})


class AgendaItem(models.Model):
    class Session(models.TextChoices):
        PUBLIC = "public", _("Public session")
        CLOSED = "closed", _("Closed session")

    class Kind(models.TextChoices):
        DELIBERATION = "deliberation", _("Deliberation")
        INFORMATION = "information", _("Information")
        APPOINTMENT = "appointment", _("Appointment or personnel matter")
        MINUTES_APPROVAL = "minutes_approval", _("Approval of the minutes")
        URGENCY = "urgency", _("Urgency item")

    class VoteKind(models.TextChoices):
        NONE = "none", _("No vote")
        PUBLIC = "public", _("Public roll-call vote")
        SECRET = "secret", _("Secret ballot")

    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("meeting"),
    )
    position = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=500)
    session = models.CharField(
        pgettext_lazy("agenda item", "session"),
        max_length=10,
        choices=Session.choices,
        default=Session.PUBLIC,
    )
    kind = models.CharField(
        _("kind"), max_length=30, choices=Kind.choices, default=Kind.DELIBERATION
    )
    rapporteur = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rapporteur"),
    )
    explanatory_note = models.TextField(_("explanatory note"), blank=True)
    draft_decision = models.TextField(_("draft decision"), blank=True)
    vote_kind = models.CharField(
        _("vote"), max_length=10, choices=VoteKind.choices, default=VoteKind.PUBLIC
    )
    third_convocation = models.BooleanField(
        _("on its third convocation"),
        default=False,
        help_text=_("Exempt from the quorum (L1122-17)."),
    )

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "position"], name="unique_item_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"

    def save(self, *args, **kwargs):
        for name, value in self.forced_by_kind(self.kind).items():
            setattr(self, name, value)
        super().save(*args, **kwargs)

    @classmethod
    def forced_by_kind(cls, kind: str) -> dict[str, str]:
        """The fields an item of this kind holds whatever was asked for."""
        # Persons are discussed behind closed doors and chosen by secret ballot
        # (L1122-21, L1122-27): an appointment is always both.
        if kind == cls.Kind.APPOINTMENT:
            return {"session": cls.Session.CLOSED, "vote_kind": cls.VoteKind.SECRET}
        return {}

    @property
    def is_closed_session(self) -> bool:
        return self.session == self.Session.CLOSED


class AttendanceEvent(models.Model):
    """One timed line of the register; presence is recomputed from these."""

    class Kind(models.TextChoices):
        ARRIVED = "arrived", _("Arrived")
        LEFT = "left", _("Left")
        EXCUSED = "excused", _("Excused")

    class Place(models.TextChoices):
        REMOTE = "remote", _("Remote")
        ROOM = "room", _("In the room")

    class Cause(models.TextChoices):
        CLERK = "clerk", _("Recorded by the clerk")
        JOINED = "joined", _("Joined online")
        LEFT_BUTTON = "left_button", _("Left the sitting")
        CONNECTION_LOST = "connection_lost", _("Connection lost")

    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,
        related_name="attendance_events",
        verbose_name=_("meeting"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="attendance_events",
        verbose_name=_("person"),
    )
    kind = models.CharField(_("event"), max_length=10, choices=Kind.choices)
    place = models.CharField(
        _("place"), max_length=10, choices=Place.choices, default=Place.REMOTE
    )
    at = models.DateTimeField(_("time"), db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    cause = models.CharField(
        _("cause"), max_length=20, choices=Cause.choices, default=Cause.CLERK
    )

    class Meta:
        verbose_name = _("attendance event")
        verbose_name_plural = _("attendance register")
        ordering = ["meeting", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.person} {self.get_kind_display()} {self.at:%H:%M:%S}"


class Recusal(models.Model):
    """A member with a direct interest in an item (L1122-19)."""

    item = models.ForeignKey(
        AgendaItem,
        on_delete=models.CASCADE,
        related_name="recusals",
        verbose_name=_("agenda item"),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="recusals",
        verbose_name=_("member"),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    at = models.DateTimeField(_("time"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")
        constraints = [
            models.UniqueConstraint(fields=["item", "person"], name="unique_recusal")
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.item}"
