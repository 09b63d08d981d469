"""Polls, public votes, secret ballots and their sealing keys, candidates.

Secret ballots keep who voted (``Participation``) and what was chosen
(``Ballot``) in two tables that share nothing but the poll: a ballot has a
random id, no member, no timestamp, and is listed by its tracker hash.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from council.models import Body
from meetings.models import AgendaItem
from voting.choices import PROPOSAL_FIELD_CHOICES
from voting.services.sealing import fingerprint


class SealingKey(models.Model):
    """A keyholder's key pair; the private half is encrypted by a passphrase."""

    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sealing_keys",
        verbose_name=_("keyholder"),
    )
    body = models.ForeignKey(
        Body, on_delete=models.PROTECT, related_name="+", verbose_name=_("body")
    )
    public_key = models.BinaryField(_("public key"))
    # SecretBox(kdf(passphrase, salt)).encrypt(private key bytes).
    encrypted_private_key = models.BinaryField(_("encrypted private key"))
    salt = models.BinaryField(_("salt"))
    opslimit = models.PositiveBigIntegerField(_("KDF operations limit"))
    memlimit = models.PositiveBigIntegerField(_("KDF memory limit"))
    active = models.BooleanField(pgettext_lazy("sealing key", "active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # HMAC under POLL_KEY_SECRET (not in the database) of holder, body and
    # public key: a key written into this table by hand does not verify.
    binding = models.CharField(
        _("binding"), max_length=64, blank=True, default="", editable=False
    )

    class Meta:
        verbose_name = _("sealing key")
        verbose_name_plural = _("sealing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "body"],
                condition=Q(active=True),
                name="one_active_sealing_key_per_holder",
            )
        ]

    def __str__(self) -> str:
        return f"{self.holder} — {self.body}"

    @property
    def fingerprint(self) -> str:
        return fingerprint(bytes(self.public_key))


class Candidate(models.Model):
    """A candidate presented for an appointment item."""

    item = models.ForeignKey(
        AgendaItem,
        on_delete=models.CASCADE,
        related_name="candidates",
        verbose_name=_("agenda item"),
    )
    name = models.CharField(_("name"), max_length=300)
    birth_date = models.DateField(
        _("birth date"),
        null=True,
        blank=True,
        help_text=_("Decides a tie: the older candidate wins (L1122-28)."),
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person"),
    )

    class Meta:
        verbose_name = _("candidate")
        verbose_name_plural = _("candidates")
        ordering = ["item", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "name"], name="unique_candidate_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_birth_date(self):
        if self.birth_date is not None:
            return self.birth_date
        return self.person.birth_date if self.person_id else None


class Poll(models.Model):
    class State(models.TextChoices):
        # Own context: a meeting's "Closed" is feminine in French (la séance),
        # a poll's masculine (le scrutin), and the first catalogue would win.
        OPEN = "open", pgettext_lazy("poll state", "Open")
        CLOSED = "closed", pgettext_lazy("poll state", "Closed")
        UNSEALED = "unsealed", pgettext_lazy("poll state", "Unsealed")
        ANNOUNCED = "announced", pgettext_lazy("poll state", "Announced")

    item = models.ForeignKey(
        AgendaItem,
        on_delete=models.PROTECT,
        related_name="polls",
        verbose_name=_("agenda item"),
    )
    secret = models.BooleanField(_("secret ballot"))
    round_number = models.PositiveSmallIntegerField(_("round"), default=1)
    previous_round = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_round",
        verbose_name=_("previous round"),
    )
    candidates = models.ManyToManyField(
        Candidate, blank=True, related_name="polls", verbose_name=_("candidates")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.OPEN
    )
    opened_at = models.DateTimeField(pgettext_lazy("poll", "opened at"))
    closed_at = models.DateTimeField(
        pgettext_lazy("poll", "closed at"), null=True, blank=True
    )
    unsealed_at = models.DateTimeField(_("unsealed at"), null=True, blank=True)
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    public_key = models.BinaryField(_("poll public key"), null=True, blank=True)
    # HMAC under POLL_KEY_SECRET of the poll id, its public key and every seal
    # (keyholder, their public key, the sealed private key), checked at every
    # cast and at unsealing.
    key_binding = models.CharField(
        _("key binding"), max_length=64, blank=True, default="", editable=False
    )
    # When a key that does not verify was found: casting stops for good.
    key_alarm_at = models.DateTimeField(
        _("key mismatch found at"), null=True, blank=True, editable=False
    )
    # Members present and not recused when the poll closed: the base of a
    # two-thirds majority, and the "M" of "N of M have voted".
    eligible_at_close = models.PositiveIntegerField(
        _("eligible voters at closing"), null=True, blank=True
    )
    participants = models.PositiveIntegerField(_("participants"), null=True, blank=True)
    ballots = models.PositiveIntegerField(_("ballots"), null=True, blank=True)
    # The count: written at closing for a public vote, at unsealing for a
    # secret one. Keys: the VoteChoice values (or "candidates", votes per
    # candidate id), "required", and an appointment's "runoff" pair.
    tally = models.JSONField(_("tally"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=20, blank=True)
    winner = models.ForeignKey(
        Candidate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("appointed"),
    )
    tie_broken_by_age = models.BooleanField(_("tie decided by age"), default=False)

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        ordering = ["item", "round_number", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(state="open"),
                name="one_open_poll_per_item",
            ),
            models.UniqueConstraint(
                fields=["item", "round_number"], name="unique_poll_round"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} — {self.round_number}"

    def get_absolute_url(self) -> str:
        return reverse("voting:poll", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def key_fingerprint(self) -> str:
        return fingerprint(bytes(self.public_key)) if self.public_key else ""

    @property
    def result_is_public(self) -> bool:
        """May members (and the public, for public items) see the result?"""
        if self.secret:
            return self.state == self.State.ANNOUNCED
        return self.state != self.State.OPEN


class PollKeySeal(models.Model):
    """The poll's private key, sealed to one keyholder's public key."""

    poll = models.ForeignKey(
        Poll, on_delete=models.CASCADE, related_name="seals", verbose_name=_("poll")
    )
    sealing_key = models.ForeignKey(
        SealingKey,
        on_delete=models.PROTECT,
        related_name="seals",
        verbose_name=_("sealing key"),
    )
    sealed_private_key = models.BinaryField(_("sealed poll key"))

    class Meta:
        verbose_name = _("sealed poll key")
        verbose_name_plural = _("sealed poll keys")
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "sealing_key"], name="one_seal_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.poll} — {self.sealing_key}"


class PublicVote(models.Model):
    """A member's vote in a roll-call; the last one while open counts."""

    poll = models.ForeignKey(
        Poll, on_delete=models.CASCADE, related_name="votes", verbose_name=_("poll")
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("member"),
    )
    choice = models.CharField(
        pgettext_lazy("ballot", "vote"),
        max_length=10,
        choices=PROPOSAL_FIELD_CHOICES,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded on the member's behalf by"),
    )
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("public vote")
        verbose_name_plural = _("public votes")
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "member"], name="one_public_vote_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.choice}"


class Participation(models.Model):
    """That a member took part in a secret ballot; never what they chose.

    A random id and no timestamp, so that nothing here orders participants
    by the time they voted.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(
        Poll,
        on_delete=models.PROTECT,
        related_name="participations",
        verbose_name=_("poll"),
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("member"),
    )
    # True on the rows that closing wrote again, in random order, in its own
    # transaction (voting/services/box.py): no casting order or transaction
    # id is left on a closed poll's rows.
    sealed = models.BooleanField(_("sealed at closing"), default=False)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "member"], name="one_ballot_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} — {self.poll}"


class Ballot(models.Model):
    """One sealed choice: random id, no member, no time; listed by tracker."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(
        Poll,
        on_delete=models.PROTECT,
        related_name="ballot_box",
        verbose_name=_("poll"),
    )
    ciphertext = models.BinaryField(_("sealed choice"))
    tracker = models.CharField(_("tracker"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["tracker"]

    def __str__(self) -> str:
        return self.tracker
