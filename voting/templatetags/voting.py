from django import template

from council.permissions import Action, can
from meetings.register import may_vote_now
from voting import selectors
from voting.forms import BallotForm

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
    }
    if poll is None:
        return data
    body = meeting.body
    voted = selectors.has_voted(poll, user)
    eligible = (
        poll.is_open and can(user, Action.VOTE, body) and may_vote_now(poll.item, user)
    )
    # A secret ballot is filled in on its own page (re-authentication, confirmation).
    form = BallotForm(poll=poll) if eligible and not poll.secret else None
    data.update(
        voted=voted,
        form=form,
        voted_count=selectors.voted_count(poll),
        eligible_count=selectors.eligible_count(poll),
        result=selectors.result_of(poll) if poll.result_is_public else None,
    )
    return data
