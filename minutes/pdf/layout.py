"""The official look shared by every document: page frame, styles, blocks."""

import io
import itertools
from collections import Counter
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab import rl_config
from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from minutes.pdf import fonts

# Plain binary streams: ASCII85 is done in pure Python without ReportLab's C
# accelerator and cost a third of the render time, for no gain inside a PDF.
rl_config.useA85 = 0

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 2 * cm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
INK = colors.HexColor("#1b1f24")
BRAND = colors.HexColor("#0b3d6e")
RULE = colors.HexColor("#9aa3ad")
SHADE = colors.HexColor("#eef1f4")


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    heading: ParagraphStyle
    heading_loose: ParagraphStyle
    subheading: ParagraphStyle
    subheading_loose: ParagraphStyle
    body: ParagraphStyle
    bullet: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    mono: ParagraphStyle
    banner: ParagraphStyle


_styles: Styles | None = None


def styles() -> Styles:
    global _styles
    if _styles is None:
        fonts.register()
        base = ParagraphStyle(
            "body",
            fontName=fonts.FAMILY,
            fontSize=10,
            leading=13.5,
            textColor=INK,
            spaceAfter=5,
            splitLongWords=1,
        )
        heading = ParagraphStyle(
            "heading",
            parent=base,
            fontName=fonts.FAMILY + "-Bold",
            fontSize=12,
            leading=15,
            textColor=BRAND,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,
        )
        subheading = ParagraphStyle(
            "subheading",
            parent=base,
            fontName=fonts.FAMILY + "-Bold",
            fontSize=10,
            spaceBefore=4,
            spaceAfter=2,
            keepWithNext=1,
        )
        _styles = Styles(
            heading=heading,
            heading_loose=ParagraphStyle(
                "heading_loose", parent=heading, keepWithNext=0
            ),
            subheading=subheading,
            subheading_loose=ParagraphStyle(
                "subheading_loose", parent=subheading, keepWithNext=0
            ),
            title=ParagraphStyle(
                "title",
                parent=base,
                fontName=fonts.FAMILY + "-Bold",
                fontSize=16,
                leading=20,
                textColor=BRAND,
                spaceAfter=4,
            ),
            subtitle=ParagraphStyle(
                "subtitle", parent=base, fontSize=11, leading=14, spaceAfter=10
            ),
            body=base,
            bullet=ParagraphStyle(
                "bullet", parent=base, leftIndent=14, bulletIndent=4, spaceAfter=2
            ),
            small=ParagraphStyle(
                "small", parent=base, fontSize=8, leading=10, spaceAfter=2
            ),
            cell=ParagraphStyle(
                "cell", parent=base, fontSize=9, leading=11, spaceAfter=0
            ),
            cell_head=ParagraphStyle(
                "cell_head",
                parent=base,
                fontName=fonts.FAMILY + "-Bold",
                fontSize=9,
                leading=11,
                spaceAfter=0,
            ),
            mono=ParagraphStyle(
                "mono", parent=base, fontName=fonts.MONO, fontSize=7.5, leading=9.5
            ),
            banner=ParagraphStyle(
                "banner",
                parent=base,
                fontName=fonts.FAMILY + "-Bold",
                alignment=TA_CENTER,
                textColor=colors.HexColor("#8a1c14"),
            ),
        )
    return _styles


def text(value) -> str:
    """Plain text made safe for ReportLab's paragraph markup."""
    return escape(str(value or ""))


def para(value: str, style: ParagraphStyle | None = None, *, markup=False) -> Paragraph:
    return Paragraph(value if markup else text(value), style or styles().body)


@dataclass(frozen=True)
class Page:
    """What every page of a section repeats in its header and footer."""

    header_left: str
    header_right: str
    footer_left: str
    draft: bool = False


class SectionMark(Flowable):
    """Zero-size marker: pages from here on belong to a new section."""

    def __init__(self, page: Page):
        super().__init__()
        self.page = page
        self.width = self.height = 0

    def wrap(self, *args):
        return 0, 0

    def draw(self):
        self.canv.section = self.page


class _NumberedCanvas(Canvas):
    """Draws headers and "page X of Y" per section once the page count is known."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []
        self.section: Page | None = None

    def showPage(self):  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        keys = [id(state["section"]) for state in self._pages]
        totals = Counter(keys)
        seen: Counter = Counter()
        for state, key in zip(self._pages, keys, strict=True):
            self.__dict__.update(state)
            seen[key] += 1
            self._frame(state["section"], seen[key], totals[key])
            super().showPage()
        super().save()

    def _frame(self, page: Page | None, number: int, total: int) -> None:
        if page is None:
            return
        self.saveState()
        self.setFillColor(INK)
        self.setStrokeColor(RULE)
        self.setLineWidth(0.6)
        top = PAGE_HEIGHT - MARGIN + 0.6 * cm
        self.setFont(fonts.FAMILY + "-Bold", 8.5)
        self.drawString(MARGIN, top, _fit(page.header_left, 60))
        self.setFont(fonts.FAMILY, 8.5)
        self.drawRightString(PAGE_WIDTH - MARGIN, top, _fit(page.header_right, 55))
        self.line(MARGIN, top - 0.2 * cm, PAGE_WIDTH - MARGIN, top - 0.2 * cm)
        bottom = MARGIN - 0.9 * cm
        self.line(MARGIN, bottom + 0.35 * cm, PAGE_WIDTH - MARGIN, bottom + 0.35 * cm)
        self.setFont(fonts.FAMILY, 7.5)
        self.drawString(MARGIN, bottom, _fit(page.footer_left, 95))
        self.drawRightString(
            PAGE_WIDTH - MARGIN,
            bottom,
            _("Page %(page)d of %(total)d") % {"page": number, "total": total},
        )
        if page.draft:
            self.setFont(fonts.FAMILY + "-Bold", 60)
            self.setFillColor(colors.Color(0.8, 0.1, 0.1, alpha=0.12))
            self.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
            self.rotate(45)
            self.drawCentredString(0, 0, _("DRAFT"))
        self.restoreState()


def _fit(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def build(
    story: list,
    *,
    title: str,
    author: str,
    subject: str,
    language: str,
    keywords: str = "",
) -> bytes:
    """Lay the story out on A4 and return the PDF's bytes."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 0.4 * cm,
        bottomMargin=MARGIN,
        title=title,
        author=author,
        subject=subject,
        creator="Council meetings",
        keywords=keywords,
        lang=language,
    )
    doc.build(story, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


def table(
    rows: list[list], widths: list[float], *, header: bool = True, zebra: bool = True
) -> Table:
    """A table whose cells wrap and whose rows split cleanly across pages."""
    st = styles()
    data = []
    for index, row in enumerate(rows):
        style = st.cell_head if header and index == 0 else st.cell
        data.append(
            [cell if isinstance(cell, Flowable) else para(cell, style) for cell in row]
        )
    result = Table(
        data,
        colWidths=widths,
        repeatRows=1 if header else 0,
        splitByRow=1,
        hAlign="LEFT",
    )
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands += [
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, BRAND),
        ]
    if zebra:
        for index in range(2 if header else 1, len(rows), 2):
            commands.append(("BACKGROUND", (0, index), (-1, index), colors.white))
    result.setStyle(TableStyle(commands))
    return result


def heading_block(*, municipality: str, body: str, title: str, subtitle: str) -> list:
    st = styles()
    return [
        para(municipality.upper(), st.small),
        para(body, st.subheading),
        Spacer(0, 0.2 * cm),
        para(title, st.title),
        para(subtitle, st.subtitle),
    ]


def signature_blocks(signatories: list[tuple[str, str]]) -> list:
    """Side-by-side blocks with room for wet-ink signatures.

    A list, for the caller to keep together with what precedes: a KeepTogether
    nested in another reports an endless height and always jumps a page.
    """
    st = styles()
    width = FRAME_WIDTH / max(len(signatories), 1)
    cells = []
    for role, name in signatories:
        cells.append(
            [
                para(role, st.subheading),
                para(name or " ", st.body),
                Spacer(0, 1.9 * cm),
                para(_("Signature"), st.small),
            ]
        )
    grid = Table([cells], colWidths=[width] * len(cells), hAlign="LEFT")
    grid.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return [Spacer(0, 0.25 * cm), grid]


class QrCode(Flowable):
    """A QR code drawn as one filled path.

    ReportLab's widget encodes twice, tries all eight masks and builds a shape
    per module, which took most of an extract's time; any mask is valid for
    readers (ISO/IEC 18004), so one fixed mask is used and encoded once.
    """

    _MASK = 2
    _BORDER = 4

    def __init__(self, value: str, size: float = 3 * cm):
        super().__init__()
        qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
        qr.addData(value)
        qr.version = qr.calculate_version()
        qr.makeImpl(False, self._MASK)
        self.modules = qr.modules
        self.width = self.height = size

    def wrap(self, *args):
        return self.width, self.height

    def draw(self):
        count = len(self.modules)
        box = self.width / (count + 2 * self._BORDER)
        # Module units, y downwards; integer operators keep the stream small
        # and skip ReportLab's float formatting, the slowest part otherwise.
        runs = []
        for r, row in enumerate(self.modules):
            c = 0
            for dark, run in itertools.groupby(row):
                length = len(list(run))
                if dark:
                    runs.append(f"{c} {r} {length} 1 re")
                c += length
        self.canv.saveState()
        self.canv.setFillColor(colors.black)
        self.canv.transform(
            box, 0, 0, -box, self._BORDER * box, self.height - self._BORDER * box
        )
        self.canv.addLiteral("\n".join(runs) + "\nf")
        self.canv.restoreState()


def qr_code(url: str, size: float = 3 * cm) -> QrCode:
    return QrCode(url, size)


def right(value: str) -> Paragraph:
    return para(
        value, ParagraphStyle("right", parent=styles().small, alignment=TA_RIGHT)
    )
