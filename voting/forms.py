from django import forms
from django.utils.translation import gettext_lazy as _

from voting.choices import (
    BALLOT_LABELS,
    PROPOSAL_CHOICES,
    PROPOSAL_FIELD_CHOICES,
    VoteChoice,
    candidate_key,
)


def ballot_choices(poll) -> list[tuple[str, str]]:
    """The options of the poll's ballot, as the voter reads them."""
    if poll.item.kind == poll.item.Kind.APPOINTMENT:
        options = [(candidate_key(c.pk), c.name) for c in poll.candidates.all()]
        blank = VoteChoice.BLANK
        return options + [(blank.value, BALLOT_LABELS[blank])]
    return [(choice.value, BALLOT_LABELS[choice]) for choice in PROPOSAL_CHOICES]


class BallotForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"), widget=forms.RadioSelect, choices=()
    )

    # Made and kept by the voter's browser (static/js/ballot.js) for a secret
    # ballot: the tracker is derived from it, so a lost answer loses no receipt.
    # The service checks its form; without JavaScript it is empty.
    receipt_secret = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, poll, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["choice"].choices = ballot_choices(poll)

    def label_of(self) -> str:
        return dict(self.fields["choice"].choices)[self.cleaned_data["choice"]]


class ProxyVoteForm(forms.Form):
    member = forms.TypedChoiceField(label=_("Member in the room"), coerce=int)
    choice = forms.ChoiceField(
        label=_("Their vote, given aloud"),
        widget=forms.RadioSelect,
        choices=PROPOSAL_FIELD_CHOICES,
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [(m.pk, m.display_name) for m in members]


class PassphraseForm(forms.Form):
    passphrase = forms.CharField(
        label=_("Your sealing passphrase"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


class KeySetupForm(forms.Form):
    passphrase = forms.CharField(
        label=_("New sealing passphrase"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 12 characters. It is never stored: if it is lost, "
            "the deputy's key must unseal."
        ),
    )
    confirm = forms.CharField(
        label=_("The same passphrase again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class CandidateForm(forms.Form):
    name = forms.CharField(label=_("Candidate's name"), max_length=300)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Decides a tie: the older candidate wins."),
    )
