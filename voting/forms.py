from urllib.parse import quote_plus

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


# A secret ballot's options travel padded to one width (a choice never ends
# with the filler), so the size of the request does not tell the choice.
CHOICE_WIDTH = 24
CHOICE_FILLER = "."


def choice_filler(value: str) -> str:
    """Filler that brings the value, as a form encodes it, to CHOICE_WIDTH bytes."""
    return CHOICE_FILLER * max(0, CHOICE_WIDTH - len(quote_plus(value)))


def padded_choice(value: str) -> str:
    return value + choice_filler(value)


class PaddedRadioSelect(forms.RadioSelect):
    """Radio buttons whose values are sent padded, and read back bare."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        option["value"] = padded_choice(str(option["value"]))
        return option

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return value.rstrip(CHOICE_FILLER) if isinstance(value, str) else value


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
        if poll.secret:
            self.fields["choice"].widget = PaddedRadioSelect()
        self.fields["choice"].choices = ballot_choices(poll)

    def label_of(self) -> str:
        return dict(self.fields["choice"].choices)[self.cleaned_data["choice"]]

    @property
    def choice_filler(self) -> str:
        """What the confirmation sends beside the choice: one size in all."""
        return choice_filler(self.cleaned_data["choice"])


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
