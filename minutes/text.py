"""Words shared by the web pages and the PDFs: safe summaries, votes, dates.

Summaries use a small formatting language the clerk can type without HTML:
``**bold**``, ``*italic*``, a blank line between paragraphs, and lines starting
with ``- `` for lists. Everything else is text: it is escaped before any tag
is added, and the HTML is passed through nh3 with a short allow-list.
"""

import datetime
import html
import re
import zoneinfo

import nh3
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import get_language, ngettext, npgettext
from django.utils.translation import gettext as _

from voting import choices

_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)(.+?)(?<=\S)\*(?![*\w])")
_ALLOWED_TAGS = {"p", "strong", "em", "ul", "li", "br"}


def _inline(text: str, bold: str, italic: str) -> str:
    escaped = html.escape(text, quote=True)
    escaped = _BOLD.sub(rf"<{bold}>\1</{bold}>", escaped)
    return _ITALIC.sub(rf"<{italic}>\1</{italic}>", escaped)


def blocks(source: str) -> list[tuple[str, list[str]]]:
    """Split a summary into ("p", [lines]) and ("ul", [items]) blocks."""
    result: list[tuple[str, list[str]]] = []
    for chunk in re.split(r"\n\s*\n", (source or "").replace("\r\n", "\n").strip()):
        lines = [line.rstrip() for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.lstrip().startswith("- ") for line in lines):
            result.append(("ul", [line.lstrip()[2:].strip() for line in lines]))
        else:
            result.append(("p", [line.strip() for line in lines]))
    return result


def summary_html(source: str) -> str:
    """Safe HTML for a summary, whatever the clerk typed."""
    parts = []
    for kind, lines in blocks(source):
        if kind == "ul":
            items = "".join(
                f"<li>{_inline(line, 'strong', 'em')}</li>" for line in lines
            )
            parts.append(f"<ul>{items}</ul>")
        else:
            inner = "<br>".join(_inline(line, "strong", "em") for line in lines)
            parts.append(f"<p>{inner}</p>")
    return nh3.clean("".join(parts), tags=_ALLOWED_TAGS, attributes={})


_TO_REPORTLAB = {
    "<strong>": "<b>",
    "</strong>": "</b>",
    "<em>": "<i>",
    "</em>": "</i>",
    "<br>": "<br/>",
}
_TAG = re.compile("|".join(re.escape(tag) for tag in _TO_REPORTLAB))


def _pdf_inline(lines: list[str]) -> str:
    # nh3 balances whatever the emphasis markers produced ("**a *b** c*"),
    # which ReportLab's stricter paragraph parser would reject.
    html_text = "<br>".join(_inline(line, "strong", "em") for line in lines)
    clean = nh3.clean(html_text, tags={"strong", "em", "br"}, attributes={})
    return _TAG.sub(lambda match: _TO_REPORTLAB[match.group(0)], clean)


def summary_pdf_blocks(source: str) -> list[tuple[str, str]]:
    """("p" | "li", ReportLab paragraph markup) for each block of a summary."""
    result = []
    for kind, lines in blocks(source):
        if kind == "ul":
            result += [("li", _pdf_inline([line])) for line in lines]
        else:
            result.append(("p", _pdf_inline(lines)))
    return result


# ---- dates and durations -------------------------------------------------------


def parse_time(value: str | None, time_zone: str) -> datetime.datetime | None:
    if not value:
        return None
    moment = datetime.datetime.fromisoformat(value)
    return moment.astimezone(zoneinfo.ZoneInfo(time_zone))


def long_date(value: str | None, time_zone: str) -> str:
    moment = parse_time(value, time_zone)
    return formats.date_format(moment, "DATE_FORMAT") if moment else ""


def clock(value: str | None, time_zone: str) -> str:
    moment = parse_time(value, time_zone)
    return moment.strftime("%H:%M") if moment else "—"


def duration(seconds: int) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


# ---- votes, written as the law asks (L1122-26 to L1122-28) ------------------------


def outcome_lines(vote: dict | None) -> list[str]:
    """The outcome of a vote in the law's words, in the active language.

    ``vote`` is a result as the minutes store it (``minutes.records.vote_data``);
    the minutes, the decision extracts, their PDFs and the voting pages all
    word an outcome here. Public votes give the counts and the names of those
    against and abstaining; secret ballots give totals only, whatever the
    data passed in holds; an appointment gives each round and its decision.
    """
    if not vote:
        return []
    if vote.get("secret"):
        if not vote.get("announced", True):
            return [_("Secret ballot: the result has not been announced yet.")]
        lines = [
            ngettext(
                "Secret ballot: %(count)d member took part.",
                "Secret ballot: %(count)d members took part.",
                vote.get("participants", 0),
            )
            % {"count": vote.get("participants", 0)}
        ]
        rounds = vote.get("rounds") or []
        for rnd in rounds:
            counts = [(choices.label(key), n) for key, n in rnd["counts"].items()]
            counts += [
                (choices.label(choices.VoteChoice.BLANK), rnd.get("blank", 0)),
                (choices.label(choices.VoteChoice.INVALID), rnd.get("invalid", 0)),
            ]
            # "round %(n)s" is the voting pages' own word for a round.
            number = capfirst(_("round %(n)s") % {"n": rnd["number"]})
            lines.append(f"{number} — {_tally(counts)}.")
        if not rounds:
            lines.append(
                _tally(
                    [(choices.label(c), vote.get(c, 0)) for c in choices.TALLY_ORDER]
                )
                + "."
            )
    else:
        lines = [_("Public vote: %(yes)s, %(no)s, %(abstain)s.") % _counts(vote)]
        if vote.get("names_against"):
            lines.append(
                _("Voted against: %(names)s.")
                % {"names": ", ".join(vote["names_against"])}
            )
        if vote.get("names_abstaining"):
            lines.append(
                _("Abstained: %(names)s.")
                % {"names": ", ".join(vote["names_abstaining"])}
            )
    return [typography(line) for line in lines + _decision_lines(vote)]


def _tally(counts: list[tuple[str, int]]) -> str:
    """A tally, each count after its label: "Yes: 38; No: 1"."""
    return "; ".join(f"{label}: {count}" for label, count in counts)


# French puts a narrow no-break space before these marks (and never a break).
_FRENCH_MARK = re.compile(r"[ \u00a0\u202f]*([:;?!])(?=\s|$)")
_NARROW_NBSP = "\u202f"


def typography(line: str, language: str | None = None) -> str:
    """``line`` with the active language's spacing around punctuation.

    In French a narrow no-break space goes before ":" ";" "?" "!" that end a
    word ("Pour : 38 ; contre : 1"); a time ("19:00") or an address is left
    alone. Other languages are returned unchanged.
    """
    language = (language or get_language() or "").split("-")[0]
    if language != "fr":
        return line
    return _FRENCH_MARK.sub(lambda match: _NARROW_NBSP + match.group(1), line)


def _counts(vote: dict) -> dict[str, str]:
    """Each count of a public vote with its noun, singular or plural as it takes."""
    yes, no, abstain = (vote.get(k, 0) for k in ("yes", "no", "abstain"))
    return {
        "yes": npgettext("vote count", "%(count)d for", "%(count)d for", yes)
        % {"count": yes},
        "no": npgettext("vote count", "%(count)d against", "%(count)d against", no)
        % {"count": no},
        "abstain": npgettext(
            "vote count", "%(count)d abstaining", "%(count)d abstaining", abstain
        )
        % {"count": abstain},
    }


def _decision_lines(vote: dict) -> list[str]:
    decision = vote.get("decision", "")
    tie = vote.get("tie_broken_by_age", False)
    if decision == "adopted":
        return [_("The proposal is adopted.")]
    if decision == "rejected":
        return [_("The proposal is rejected.")]
    if decision == "appointed":
        name = {"name": vote.get("appointed", "")}
        if tie:
            return [
                _("The votes are tied: %(name)s, the older candidate, is appointed.")
                % name
            ]
        return [_("%(name)s is appointed.") % name]
    if decision == "runoff":
        lines = [_("No candidate has the absolute majority: a run-off follows.")]
        if tie:
            # Age decided who goes through to the run-off (L1122-28).
            lines.append(_("A tie was decided by age: the older candidate goes first."))
        return lines
    if decision == "void":
        return [_("No vote was cast: the vote is void.")]
    label = choices.DECISION_LABELS.get(decision, "")
    return [_("Outcome: %(decision)s.") % {"decision": label}] if label else []
