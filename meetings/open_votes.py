"""The votes still open when a sitting closes, asked of the app that holds them.

Dependencies point one way (council <- meetings <- voting), so meetings cannot
import the votes: the voting app registers here what lists a meeting's open
votes and what closes one (``register_open_votes``, from its ``ready``).
Without a registration a meeting has no votes, and closing asks nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class OpenVote:
    """An open vote as the chair's confirmation names it."""

    id: int
    label: str | Promise  # "3. The budget — round 1", as the console shows it
    cast: int  # ballots or votes cast so far


Lister = Callable[..., list[OpenVote]]  # (meeting) -> the open votes
# (vote_ids=..., by=...) closes them, with what was cast; it locks every one
# of them before the meeting's row, the order a cast takes them in.
Closer = Callable[..., None]

_registered: dict[str, Callable] = {}


def register_open_votes(*, list_open: Lister, close: Closer) -> None:
    _registered["list"] = list_open
    _registered["close"] = close


def open_votes(meeting) -> list[OpenVote]:
    """The meeting's votes that are still open, in agenda order."""
    lister = _registered.get("list")
    return list(lister(meeting)) if lister else []


def close_votes(*, vote_ids: list[int], by) -> None:
    """Close these open votes, counting the ballots cast so far."""
    if vote_ids:
        _registered["close"](vote_ids=sorted(vote_ids), by=by)
