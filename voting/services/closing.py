"""What closing a sitting asks of its open votes (``meetings.open_votes``).

The voting app registers these two in its ``ready``: the chair's console
names the open votes in its confirmation, and closing the sitting closes
each with the ballots cast so far, as closing it from the vote controls does.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from meetings.open_votes import OpenVote
from voting.models import Poll
from voting.selectors import voted_count
from voting.services.polls import poll_close


def open_votes_of(meeting) -> list[OpenVote]:
    """The meeting's open polls, in agenda order, with what was cast so far."""
    polls = (
        Poll.objects.filter(item__meeting_id=meeting.pk, state=Poll.State.OPEN)
        .select_related("item")
        .order_by("item__position", "round_number")
    )
    return [
        OpenVote(
            id=poll.pk,
            label=_("%(position)s. %(title)s, round %(round)s")
            % {
                "position": poll.item.position,
                "title": poll.item.title,
                "round": poll.round_number,
            },
            cast=voted_count(poll),
        )
        for poll in polls
    ]


@transaction.atomic
def open_votes_close(*, vote_ids: list[int], by) -> None:
    """Close open polls of a closing sitting, like the vote controls do.

    Every poll is locked first, in id order, before ``poll_close`` locks the
    meeting's row: a cast holds its poll, then the meeting, and waiting for
    the meeting while holding a poll another cast holds would deadlock.
    """
    polls = list(
        Poll.objects.select_for_update(of=("self",))
        .filter(pk__in=vote_ids)
        .order_by("pk")
    )
    for poll in polls:
        if poll.is_open:  # one the vote controls closed meanwhile is left as it is
            poll_close(poll=poll, by=by)
