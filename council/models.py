"""People, bodies, political groups, dated mandates and the audit log."""

import datetime
import hashlib
import hmac
import json

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who may log in. Roles come from dated mandates, not from flags."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    birth_date = models.DateField(
        _("birth date"),
        null=True,
        blank=True,
        help_text=_("Kept for the appointment tie-break; seen by the clerk and DG."),
    )
    is_administrator = models.BooleanField(
        _("administrator"),
        default=False,
        help_text=_("Manages bodies, people and mandates; reads no sealed ballot."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["last_name", "first_name", "email"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_staff(self) -> bool:
        """Whether the Django admin opens for this person: council.permissions says."""
        # A function-level import: council.permissions imports this module.
        from council.permissions import may_use_admin

        return may_use_admin(self)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class Body(models.Model):
    """A deliberative body: the municipal council, the social-welfare council..."""

    class Kind(models.TextChoices):
        MUNICIPAL_COUNCIL = "municipal_council", _("Municipal council")
        SOCIAL_WELFARE_COUNCIL = "social_welfare_council", _("Social-welfare council")
        COLLEGE = "college", _("College of mayor and aldermen")
        POLICE_COUNCIL = "police_council", _("Police council")
        OTHER = "other", _("Other body")

    class Language(models.TextChoices):
        FRENCH = "fr", _("French")
        DUTCH = "nl", _("Dutch")
        GERMAN = "de", _("German")
        ENGLISH = "en", _("English")

    class RulesPreset(models.TextChoices):
        WALLONIA = "wallonia", _("Wallonia (CDLD)")
        FLANDERS = "flanders", _("Flanders (DLB)")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name in addresses"), unique=True)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    municipality = models.CharField(_("municipality"), max_length=200)
    language = models.CharField(
        _("official language"), max_length=2, choices=Language.choices
    )
    rules_preset = models.CharField(
        _("rules of procedure"),
        max_length=20,
        choices=RulesPreset.choices,
        default=RulesPreset.WALLONIA,
    )
    seats = models.PositiveSmallIntegerField(
        _("member seats"), help_text=_("Seats the law gives this body.")
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Brussels"
    )
    speaking_time_seconds = models.PositiveIntegerField(
        _("default speaking time (seconds)"), default=300
    )

    class Meta:
        verbose_name = _("body")
        verbose_name_plural = _("bodies")
        ordering = ["municipality", "name"]

    def __str__(self) -> str:
        return self.name

    def members_in_office(self, on: datetime.date | None = None):
        """Users holding a voting mandate (councillor or chair) on the date."""
        return User.objects.filter(
            mandates__in=Mandate.objects.in_office(on=on).voting().filter(body=self)
        ).distinct()


class PoliticalGroup(models.Model):
    body = models.ForeignKey(
        Body, on_delete=models.CASCADE, related_name="groups", verbose_name=_("body")
    )
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("abbreviation"), max_length=20)
    colour = models.CharField(_("colour"), max_length=7, default="#555555")

    class Meta:
        verbose_name = _("political group")
        verbose_name_plural = _("political groups")
        ordering = ["body", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "short_name"], name="unique_group_abbreviation"
            )
        ]

    def __str__(self) -> str:
        return self.short_name


class MandateQuerySet(models.QuerySet):
    def in_office(self, on: datetime.date | None = None):
        day = on or timezone.localdate()
        return self.filter(Q(end__isnull=True) | Q(end__gte=day), start__lte=day)

    def voting(self):
        return self.filter(role__in=Mandate.VOTING_ROLES)


class Mandate(models.Model):
    """A person's dated role on a body."""

    class Role(models.TextChoices):
        COUNCILLOR = "councillor", _("Councillor")
        CHAIR = "chair", _("Chair")
        DIRECTOR_GENERAL = "director_general", _("Director-general")
        DEPUTY_DIRECTOR_GENERAL = (
            "deputy_director_general",
            _("Deputy director-general"),
        )
        CLERK = "clerk", _("Clerk")

    VOTING_ROLES = (Role.COUNCILLOR, Role.CHAIR)

    person = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="mandates",
        verbose_name=_("person"),
    )
    body = models.ForeignKey(
        Body, on_delete=models.PROTECT, related_name="mandates", verbose_name=_("body")
    )
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    group = models.ForeignKey(
        PoliticalGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mandates",
        verbose_name=_("political group"),
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)

    objects = MandateQuerySet.as_manager()

    class Meta:
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")
        ordering = ["body", "role", "person"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="mandate_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_role_display()} ({self.body})"

    def clean(self) -> None:
        if self.group_id and self.group.body_id != self.body_id:
            raise ValidationError(_("The political group belongs to another body."))
        if self.group_id and self.role not in self.VOTING_ROLES:
            raise ValidationError(_("Only councillors and the chair sit in a group."))

    def is_in_office(self, on: datetime.date | None = None) -> bool:
        day = on or timezone.localdate()
        return self.start <= day and (self.end is None or self.end >= day)


def canonical_json(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


class AuditEntry(models.Model):
    """One link of the append-only, hash-chained audit log.

    ``entry_hash`` is an HMAC-SHA256 under ``settings.AUDIT_KEY``, a key that is
    not in the database, over the entry's fields and the previous entry's hash.
    """

    GENESIS = "0" * 64

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # The actor as recorded: deleting the user empties ``actor`` but not this,
    # which is what the hash covers.
    actor_ref = models.PositiveBigIntegerField(_("actor id"), null=True, blank=True)
    actor_label = models.CharField(_("actor"), max_length=300, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    body = models.ForeignKey(
        Body,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("body"),
    )
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict)
    details_digest = models.CharField(_("details digest"), max_length=64)
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    entry_hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit entries are append-only.")

    def compute_details_digest(self) -> str:
        return hashlib.sha256(canonical_json(self.details).encode()).hexdigest()

    def compute_hash(self) -> str:
        material = canonical_json(
            [
                self.sequence,
                self.at.isoformat(),
                self.actor_ref,
                self.actor_label,
                self.action,
                self.body_id,
                self.object_type,
                self.object_id,
                self.details_digest,
                self.previous_hash,
            ]
        )
        return hmac.new(
            settings.AUDIT_KEY, material.encode(), hashlib.sha256
        ).hexdigest()
