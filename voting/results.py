"""Contract between voting and the apps that report on it (minutes).

``item_outcomes(meeting)`` gives, per agenda item that was voted on, the
outcome as the law wants it written: counts and the names of those against and
abstaining for public votes, totals only for secret ballots, and only once a
secret result has been announced by the director-general.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Round:
    number: int
    counts: dict[str, int]  # candidate or choice label -> votes
    blank: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class ItemOutcome:
    item_id: int
    secret: bool
    decision: str  # adopted, rejected, void, appointed
    yes: int = 0
    no: int = 0
    abstain: int = 0
    blank: int = 0
    invalid: int = 0
    participants: int = 0
    names_against: list[str] = field(default_factory=list)
    names_abstaining: list[str] = field(default_factory=list)
    appointed: str = ""  # the candidate appointed, for appointments
    rounds: list[Round] = field(default_factory=list)
    announced: bool = True
    tie_broken_by_age: bool = False  # the law gave a tie to the older candidate


def item_outcomes(meeting) -> dict[int, ItemOutcome]:
    """Outcome of every decided item of the meeting, by item id.

    An item whose secret result is not yet announced appears with
    ``announced=False``, decision "pending" and no counts at all. An
    appointment's earlier rounds are in ``rounds``; its decision and counts
    are those of the last round; "runoff" means a further round follows.
    """
    from voting.models import Poll
    from voting.selectors import meeting_polls, result_of

    by_item: dict[int, list] = {}
    for poll in meeting_polls(meeting):
        if poll.state == Poll.State.OPEN:
            continue
        by_item.setdefault(poll.item_id, []).append(poll)
    outcomes: dict[int, ItemOutcome] = {}
    for item_id, polls in by_item.items():
        last = polls[-1]
        if not last.result_is_public:
            outcomes[item_id] = ItemOutcome(
                item_id=item_id, secret=True, decision="pending", announced=False
            )
            continue
        rounds = []
        for poll in polls:
            result = result_of(poll, getattr(poll, "prefetched_votes", None))
            if result.candidates:
                counts = {c.name: c.votes for c in result.candidates}
            else:
                counts = {"yes": result.yes, "no": result.no, "abstain": result.abstain}
            rounds.append(
                Round(poll.round_number, counts, result.blank, result.invalid)
            )
        result = result_of(last, getattr(last, "prefetched_votes", None))
        outcomes[item_id] = ItemOutcome(
            item_id=item_id,
            secret=last.secret,
            decision=str(last.decision),
            yes=result.yes,
            no=result.no,
            abstain=result.abstain,
            blank=result.blank,
            invalid=result.invalid,
            participants=last.participants or 0,
            names_against=result.names_against,
            names_abstaining=result.names_abstaining,
            appointed=result.appointed,
            rounds=rounds,
            announced=True,
            tie_broken_by_age=bool(last.tie_broken_by_age),
        )
    return outcomes


def outcome_text(outcome: ItemOutcome) -> str:
    """The outcome as the minutes write it, in the active language.

    Public votes give the counts and name those against and abstaining;
    secret ballots give totals only (L1122-16, L1122-27).
    """
    from django.utils.translation import gettext as _

    if not outcome.announced:
        return _("The result of the secret ballot has not been announced yet.")
    parts: list[str] = []
    if outcome.rounds and any(
        set(r.counts) != {"yes", "no", "abstain"} for r in outcome.rounds
    ):
        for round_ in outcome.rounds:
            votes = ", ".join(f"{name}: {n}" for name, n in round_.counts.items())
            parts.append(
                _(
                    "Round %(n)d (secret ballot): %(votes)s; %(blank)d blank, "
                    "%(invalid)d invalid."
                )
                % {
                    "n": round_.number,
                    "votes": votes,
                    "blank": round_.blank,
                    "invalid": round_.invalid,
                }
            )
    elif outcome.secret:
        parts.append(
            _(
                "By secret ballot, %(participants)d ballots: %(yes)d for, %(no)d "
                "against, %(abstain)d abstentions, %(blank)d blank, %(invalid)d "
                "invalid."
            )
            % {
                "participants": outcome.participants,
                "yes": outcome.yes,
                "no": outcome.no,
                "abstain": outcome.abstain,
                "blank": outcome.blank,
                "invalid": outcome.invalid,
            }
        )
    else:
        parts.append(
            _("By roll-call: %(yes)d for, %(no)d against, %(abstain)d abstentions.")
            % {"yes": outcome.yes, "no": outcome.no, "abstain": outcome.abstain}
        )
        if outcome.names_against:
            parts.append(
                _("Voted against: %(names)s.")
                % {"names": ", ".join(outcome.names_against)}
            )
        if outcome.names_abstaining:
            parts.append(
                _("Abstained: %(names)s.")
                % {"names": ", ".join(outcome.names_abstaining)}
            )
    decision = {
        "adopted": _("The proposal is adopted."),
        "rejected": _("The proposal is rejected."),
        "void": _(
            "No vote was cast: the vote is void and the item returns to a "
            "later sitting."
        ),
        "runoff": _("No candidate has the absolute majority: a run-off follows."),
    }.get(outcome.decision)
    if outcome.decision == "appointed":
        decision = _("%(name)s is appointed.") % {"name": outcome.appointed}
    if decision:
        parts.append(decision)
    return " ".join(parts)
