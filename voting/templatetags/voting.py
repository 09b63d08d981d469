from django import template

from council.permissions import Action, can
from voting import selectors
from voting.forms import BallotForm
from voting.results import outcome_wording

register = template.Library()


@register.inclusion_tag("voting/_panel.html", takes_context=True)
def vote_panel(context, meeting, user):
    """The member's vote panel on the sitting page."""
    poll = selectors.current_poll(meeting)
    data = {
        "request": context.get("request"),
        "poll": poll,
        "csrf_token": context.get("csrf_token"),
        "controls": can(user, Action.OPEN_VOTE, meeting.body),
        "meeting": meeting,
        "user": user,
    }
    if poll is None:
        return data
    state = selectors.ballot_state(poll, user)
    # A secret ballot is filled in on its own page (re-authentication, confirmation).
    offers = state.offers_ballot and not poll.secret
    own = state.own_vote
    initial = {"choice": own.choice} if own else None
    form = BallotForm(poll=poll, initial=initial) if offers else None
    data.update(state=state, form=form)
    return data


@register.filter
def wording(result) -> list[str]:
    """The outcome's legal wording, as the minutes write it; [] without a renderer."""
    return outcome_wording(result)
