"""The vocabulary of votes: what a ballot says, and what a result decides.

Every vote, public or secret, records one ``VoteChoice`` value, or the key
of a candidate (``"c:<pk>"``) on an appointment's ballot. Tallies count the
same values. ``BALLOT_LABELS`` are the sentences a voter ticks on the ballot
form; ``DECISION_LABELS`` name a result's decision in a word or two. The legal
wording of an outcome is not here: it belongs to the minutes' renderer.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from voting.majority import Decision


class VoteChoice(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    ABSTAIN = "abstain", _("Abstain")
    # Only on secret ballots: a paper or electronic ballot for no option.
    BLANK = "blank", _("Blank")
    # Never cast: what the count makes of a ballot that names no option.
    INVALID = "invalid", _("Invalid")


# What a vote on a proposal offers, in roll-calls and secret ballots alike.
PROPOSAL_CHOICES = (VoteChoice.YES, VoteChoice.NO, VoteChoice.ABSTAIN)
# The same as (value, label) pairs, for a model field or a form field.
PROPOSAL_FIELD_CHOICES = [(choice.value, choice.label) for choice in PROPOSAL_CHOICES]

CANDIDATE_PREFIX = "c:"

BALLOT_LABELS = {
    VoteChoice.YES: _("Yes — I vote for the proposal"),
    VoteChoice.NO: _("No — I vote against the proposal"),
    VoteChoice.ABSTAIN: _("I abstain"),
    VoteChoice.BLANK: _("Blank ballot (for no candidate)"),
}

DECISION_LABELS = {
    Decision.ADOPTED: _("Adopted"),
    Decision.REJECTED: _("Rejected"),
    Decision.VOID: _("Void"),
    Decision.APPOINTED: _("Appointed"),
    Decision.RUNOFF: _("Run-off"),
}


def candidate_key(pk: int) -> str:
    """The value a ballot records for a vote for the candidate ``pk``."""
    return f"{CANDIDATE_PREFIX}{pk}"


def candidate_pk(key: str) -> int | None:
    """The candidate a ballot value names, or None if it names none."""
    if not key.startswith(CANDIDATE_PREFIX):
        return None
    digits = key[len(CANDIDATE_PREFIX) :]
    return int(digits) if digits.isdigit() else None


# What a tally prints for each value it counts: the choice's own label.
TALLY_ORDER = (
    VoteChoice.YES,
    VoteChoice.NO,
    VoteChoice.ABSTAIN,
    VoteChoice.BLANK,
    VoteChoice.INVALID,
)
LABELS = {choice.value: choice.label for choice in VoteChoice}


def label(value: str, candidates: dict[str, str] | None = None) -> str:
    """The words for a recorded value, in the active language.

    A ``VoteChoice`` value gives its label; a candidate's key gives the name
    ``candidates`` holds for it (keyed by the key or by the candidate's pk);
    anything else (a candidate's name already) is returned as it is. Every
    page and document prints a value through here, never the code itself.
    """
    if value in LABELS:
        return str(LABELS[value])
    pk = candidate_pk(value)
    if pk is not None:
        names = candidates or {}
        return names.get(value) or names.get(str(pk)) or str(_("Candidate"))
    return value
