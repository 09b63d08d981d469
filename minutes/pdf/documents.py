"""Pure functions from stored content to PDF bytes, in the body's language."""

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import override, pgettext
from reportlab.lib.units import cm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)

from council.audit import AuditHead
from minutes import text as words
from minutes.pdf import fonts
from minutes.pdf.layout import (
    FRAME_WIDTH,
    RULE,
    Page,
    SectionMark,
    build,
    heading_block,
    para,
    qr_code,
    signature_blocks,
    styles,
    table,
)


@dataclass(frozen=True)
class Extract:
    """A registered record as the printer needs it."""

    content: dict
    fingerprint: str
    verify_url: str
    audit_head: AuditHead | None = None


def _audit_line(head: AuditHead | None) -> str:
    """The chain head the paper anchors, in monospace; empty without one."""
    if head is None:
        return ""
    return _("Audit chain: entry %(sequence)s, %(hash)s") % {
        "sequence": head.sequence,
        "hash": f"<font face='{fonts.MONO}'>{head.short}</font>",
    }


def _mode(code: str) -> str:
    return {
        "in_person": _("in person"),
        "remote": _("remote"),
        "hybrid": _("hybrid (in the room and remote)"),
    }.get(code, code)


def _sitting_line(meeting: dict) -> str:
    tz = meeting["time_zone"]
    return _("Sitting no. %(number)s of %(date)s at %(time)s — held %(mode)s") % {
        "number": meeting["number"],
        "date": words.long_date(meeting["starts_at"], tz),
        "time": words.clock(meeting["starts_at"], tz),
        "mode": _mode(meeting["mode"]),
    }


def _session_label(session: str) -> str:
    return _("Closed session") if session == "closed" else _("Public session")


def _signatories(content: dict) -> list[tuple[str, str]]:
    people = content.get("signatories", {})
    return [
        (_("The Director-General"), people.get("director_general", "")),
        (_("The Mayor / Chair"), people.get("chair", "")),
    ]


def _paragraphs(source: str, style=None) -> list:
    """Plain multi-paragraph text (recitals, decisions) kept as the clerk wrote it."""
    st = styles()
    result = []
    for chunk in (source or "").replace("\r\n", "\n").split("\n\n"):
        if chunk.strip():
            result.append(
                para(
                    "<br/>".join(html.escape(x) for x in chunk.split("\n")),
                    style or st.body,
                    markup=True,
                )
            )
    return result


def _summary(source: str) -> list:
    st = styles()
    result = []
    for kind, markup in words.summary_pdf_blocks(source):
        if kind == "li":
            result.append(para(markup, st.bullet, markup=True))
            result[-1].bulletText = "•"
        else:
            result.append(para(markup, st.body, markup=True))
    return result


def _vote(vote: dict | None) -> list:
    st = styles()
    if not vote:
        return [para(_("No vote was taken on this item."), st.body)]
    return [para(_unbroken(line), st.body) for line in words.outcome_lines(vote)]


def _unbroken(line: str) -> str:
    """The outcome as paper prints it: French spaces before ":" stay unbroken.

    ReportLab breaks lines at a narrow no-break space (and Bitstream Vera has
    no glyph for it), but keeps a no-break space whole, in every typeface.
    """
    return line.replace("\u202f", "\u00a0")


# ---- decision extract ---------------------------------------------------------------


def _extract_story(extract: Extract) -> list:
    st = styles()
    c = extract.content
    body, meeting, item = c["body"], c["meeting"], c["item"]
    page = Page(
        header_left=body["name"],
        header_right=_("Decision extract %(reference)s")
        % {"reference": c["reference"]},
        footer_left=_("Fingerprint (SHA-256): %(fp)s") % {"fp": extract.fingerprint},
    )
    story: list = [SectionMark(page), _extract_heading(extract)]
    if c.get("supersedes"):
        story.append(
            para(
                _("This record corrects and replaces record %(reference)s.")
                % {"reference": c["supersedes"]},
                st.banner,
            )
        )
        if c.get("correction_reason"):
            story.append(para(c["correction_reason"], st.small))
    story.append(para(_("Members present"), st.heading))
    story.append(para(", ".join(c["present"]) or "—", st.body))
    if c.get("recused"):
        story.append(
            para(
                _("Recused for this item (L1122-19): %(names)s")
                % {"names": ", ".join(c["recused"])},
                st.body,
            )
        )
    story.append(
        para(
            f"{item['position']}. {html.escape(item['title'])}", st.heading, markup=True
        )
    )
    detail = _session_label(item["session"])
    if item.get("rapporteur"):
        detail += " — " + _("Rapporteur: %(name)s") % {"name": item["rapporteur"]}
    story.append(para(detail, st.small))
    if c.get("recitals"):
        story.append(para(_("Recitals"), st.subheading))
        story += _paragraphs(c["recitals"])
    story.append(para(_("Decision"), st.subheading))
    story += _paragraphs(c["decision"]) or [para("—")]
    story.append(para(_("Vote"), st.subheading))
    story += _vote(c.get("vote"))
    # The closing formula and the signatures never part across a page break.
    closing = para(
        _("For a true extract, on %(date)s.")
        % {"date": words.long_date(meeting["starts_at"], meeting["time_zone"])},
        st.body,
    )
    story.append(KeepTogether([closing, *signature_blocks(_signatories(c))]))
    return story


def _extract_heading(extract: Extract) -> KeepTogether:
    """Title on the left; the register reference and the QR code on the right.

    At the top, the verification data never lands alone on a last page, and
    the signatures close the document as on paper.
    """
    st = styles()
    c = extract.content
    qr_size = 2.6 * cm
    left = heading_block(
        municipality=c["body"]["municipality"],
        body=c["body"]["name"],
        title=_("Extract from the register of deliberations"),
        subtitle=_sitting_line(c["meeting"]),
    )
    right = [
        para(_("Register reference"), st.small),
        para(c["reference"], st.cell_head),
        qr_code(extract.verify_url, qr_size),
    ]
    side = 5 * cm
    head = Table(
        [[left, right]],
        colWidths=[FRAME_WIDTH - side, side],
        hAlign="LEFT",
    )
    head.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    check = para(
        _(
            "Scan the code or open this address to check this paper against the "
            "registered record:"
        )
        + f" <font face='{fonts.MONO}'>{html.escape(extract.verify_url)}</font>",
        st.small,
        markup=True,
    )
    fingerprint = para(
        _("SHA-256 fingerprint of the registered record")
        + f": <font face='{fonts.MONO}'>{extract.fingerprint}</font>",
        st.small,
        markup=True,
    )
    rows = [[check], [fingerprint]]
    if extract.audit_head is not None:
        rows.append([para(_audit_line(extract.audit_head), st.small, markup=True)])
    box = Table(rows, colWidths=[FRAME_WIDTH], hAlign="LEFT")
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return KeepTogether([head, box, Spacer(0, 0.3 * cm)])


def _meta(content: dict, title: str) -> dict:
    return {
        "title": title,
        "author": content["body"]["name"],
        "subject": content["body"]["municipality"],
        "language": content["body"]["language"],
    }


def decision_extract(extract: Extract) -> bytes:
    """One decision extract, ready for wet-ink signature."""
    language = extract.content["body"]["language"]
    with override(language):
        title = _("Decision extract %(reference)s") % {
            "reference": extract.content["reference"]
        }
        return build(
            _extract_story(extract),
            keywords=extract.fingerprint,
            **_meta(extract.content, title),
        )


def decision_extracts(
    extracts: Iterable[Extract],
    *,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """All the extracts in one file, each numbered "page X of Y" on its own."""
    extracts = list(extracts)
    if not extracts:
        raise ValueError("no extract to print")
    language = extracts[0].content["body"]["language"]
    with override(language):
        story: list = []
        for index, extract in enumerate(extracts):
            if index:
                story.append(PageBreak())
            story += _extract_story(extract)
            if progress is not None:
                progress(index + 1)
        meeting = extracts[0].content["meeting"]
        title = _("Decisions of the sitting of %(date)s") % {
            "date": words.long_date(meeting["starts_at"], meeting["time_zone"])
        }
        return build(story, **_meta(extracts[0].content, title))


# ---- minutes ------------------------------------------------------------------------


def _attendance_tables(content: dict) -> list:
    st = styles()
    tz = content["meeting"]["time_zone"]
    attendance = content["attendance"]
    # A heading kept with a table longer than a page would push both to the
    # next page; a conditional break keeps the heading off the page's foot.
    story = [CondPageBreak(4 * cm), para(_("Attendance"), st.heading_loose)]
    rows = [
        [
            _("Member"),
            _("Group"),
            pgettext("attendance heading", "Arrived"),
            pgettext("attendance heading", "Left"),
            _("Place"),
        ]
    ]
    place = {"remote": _("Remote"), "room": _("In the room")}
    for person in attendance["present"]:
        rows.append(
            [
                person["name"],
                person.get("group", ""),
                words.clock(person["arrived"], tz),
                words.clock(person.get("left"), tz),
                place.get(person.get("place"), person.get("place", "")),
            ]
        )
    if len(rows) > 1:
        story.append(
            table(
                rows,
                [0.42 * FRAME_WIDTH, 0.14 * FRAME_WIDTH] + [0.1466 * FRAME_WIDTH] * 3,
            )
        )
    else:
        story.append(para(_("Nobody was recorded present."), st.body))
    story.append(Spacer(0, 0.2 * cm))
    # A heading over a list of names: plural where the register says "excused"
    # of one person, hence its own context.
    for label, key in (
        (pgettext("attendance heading", "Excused"), "excused"),
        (pgettext("attendance heading", "Absent"), "absent"),
    ):
        names = ", ".join(p["name"] for p in attendance[key])
        story.append(
            para(
                f"<b>{html.escape(label)}:</b> " + html.escape(names or "—"),
                st.body,
                markup=True,
            )
        )
    return story


def _minutes_item(item: dict) -> list:
    st = styles()
    story: list = [
        para(
            f"{item['position']}. {html.escape(item['title'])}", st.heading, markup=True
        )
    ]
    detail = _session_label(item["session"])
    if item.get("rapporteur"):
        detail += " — " + _("Rapporteur: %(name)s") % {"name": item["rapporteur"]}
    story.append(para(detail, st.small))
    if item["recusals"]:
        story.append(
            para(
                _("Recused (L1122-19): %(names)s")
                % {
                    "names": ", ".join(
                        r["name"] + (f" ({r['reason']})" if r.get("reason") else "")
                        for r in item["recusals"]
                    )
                },
                st.body,
            )
        )
    if item["speeches"]:
        story.append(CondPageBreak(3 * cm))
        story.append(para(_("Debate"), st.subheading_loose))
        rows = [[_("No."), _("Speaker"), _("Group"), pgettext("duration", "Time")]]
        for speech in item["speeches"]:
            rows.append(
                [
                    str(speech["order"]),
                    speech["name"],
                    speech.get("group", ""),
                    words.duration(speech["seconds"]),
                ]
            )
        story.append(
            table(
                rows,
                [
                    0.08 * FRAME_WIDTH,
                    0.56 * FRAME_WIDTH,
                    0.18 * FRAME_WIDTH,
                    0.18 * FRAME_WIDTH,
                ],
            )
        )
    if item.get("summary"):
        story.append(para(_("Summary of the debate"), st.subheading))
        story += _summary(item["summary"])
    if item.get("vote"):
        story.append(para(_("Vote"), st.subheading))
        story += _vote(item["vote"])
    if item.get("decision"):
        story.append(para(_("Decision"), st.subheading))
        story += _paragraphs(item["decision"])
    return story


def minutes_document(
    content: dict, *, draft: bool, version: int, audit_head: AuditHead | None = None
) -> bytes:
    """The full minutes of a sitting with signature blocks and, given one, the
    head of the audit chain they anchor."""
    st = styles()
    body, meeting = content["body"], content["meeting"]
    tz = meeting["time_zone"]
    with override(body["language"]):
        date = words.long_date(meeting["starts_at"], tz)
        title = _("Minutes of the sitting of %(date)s") % {"date": date}
        page = Page(
            header_left=body["name"],
            header_right=title,
            footer_left=_("Version %(version)d") % {"version": version}
            + (" — " + _("draft, not yet adopted") if draft else ""),
            draft=draft,
        )
        story: list = [SectionMark(page)]
        story += heading_block(
            municipality=body["municipality"],
            body=body["name"],
            title=title,
            subtitle=_sitting_line(meeting),
        )
        if meeting.get("place"):
            story.append(
                para(_("Place: %(place)s") % {"place": meeting["place"]}, st.body)
            )
        if meeting.get("opened_at"):
            story.append(
                para(
                    _("The sitting opened at %(opened)s and closed at %(closed)s.")
                    % {
                        "opened": words.clock(meeting["opened_at"], tz),
                        "closed": words.clock(meeting.get("closed_at"), tz),
                    },
                    st.body,
                )
            )
        if content.get("introduction"):
            story += _summary(content["introduction"])
        story += _attendance_tables(content)
        public = [i for i in content["items"] if i["session"] != "closed"]
        closed = [i for i in content["items"] if i["session"] == "closed"]
        if public:
            story.append(para(_("Public session"), st.title))
            for item in public:
                story += _minutes_item(item)
        if closed:
            story.append(para(_("Closed session"), st.title))
            for item in closed:
                story += _minutes_item(item)
        closing = [
            Spacer(0, 0.4 * cm),
            para(_("Done in session, on the date stated above."), st.body),
            para(_("For the council,"), st.body),
        ]
        if audit_head is not None:
            closing.append(para(_audit_line(audit_head), st.small, markup=True))
        story.append(KeepTogether(closing + signature_blocks(_signatories(content))))
        return build(story, **_meta(content, title))


def attendance_register(content: dict) -> bytes:
    """Every arrival and departure of the sitting, in order, with totals."""
    st = styles()
    body, meeting = content["body"], content["meeting"]
    tz = meeting["time_zone"]
    with override(body["language"]):
        date = words.long_date(meeting["starts_at"], tz)
        title = _("Attendance register of the sitting of %(date)s") % {"date": date}
        page = Page(header_left=body["name"], header_right=title, footer_left="")
        story: list = [SectionMark(page)]
        story += heading_block(
            municipality=body["municipality"],
            body=body["name"],
            title=title,
            subtitle=_sitting_line(meeting),
        )
        kinds = {
            "arrived": pgettext("attendance event", "Arrived"),
            "left": pgettext("attendance event", "Left"),
            "excused": pgettext("attendance event", "Excused"),
        }
        place = {"remote": _("Remote"), "room": _("In the room")}
        events = []
        for person in content["attendance"]["present"]:
            for event in person["events"]:
                events.append((event["at"], person["name"], event))
        events.sort(key=lambda row: (row[0], row[1]))
        rows = [[_("Time"), _("Member"), _("Event"), _("Place")]]
        for at, name, event in events:
            rows.append(
                [
                    words.clock(at, tz),
                    name,
                    kinds.get(event["kind"], event["kind"]),
                    place.get(event["place"], event["place"]),
                ]
            )
        story.append(para(_("Register"), st.heading_loose))
        story.append(
            table(
                rows,
                [
                    0.12 * FRAME_WIDTH,
                    0.5 * FRAME_WIDTH,
                    0.19 * FRAME_WIDTH,
                    0.19 * FRAME_WIDTH,
                ],
            )
        )
        story += _attendance_tables(content)
        story.append(KeepTogether(signature_blocks(_signatories(content))))
        return build(story, **_meta(content, title))
