"""The PDFs read back with pypdf: what is printed is what is registered."""

import copy
import io
import re
import shutil
import subprocess

import pypdf
import pytest
from django.urls import reverse
from django.utils.translation import gettext, override
from PIL import Image
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from council import audit
from council.models import AuditEntry, Body
from minutes import pdf, services
from minutes.models import fingerprint_of
from minutes.pdf import fonts
from minutes.pdf.layout import QrCode
from minutes.text import outcome_lines
from tests.conftest import client_for
from tests.jobs import run_jobs

pytestmark = pytest.mark.django_db


def read(data: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, text


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_extract_prints_the_registered_record(issued, sitting):
    record = issued[0]
    reader, text = read(pdf.decision_extract(services.extract_of(record)))
    words = flat(text)
    assert record.reference in words
    assert record.fingerprint in text.replace("\n", "")
    assert record.fingerprint == fingerprint_of(record.content)
    assert "Article 1er. Le conseil approuve la modification budgétaire." in words
    assert sitting.against.display_name in words
    assert sitting.abstaining.display_name in words
    with override(sitting.meeting.body.language):
        counts = outcome_lines({"yes": 4, "no": 1, "abstain": 1})[0]
    assert flat(counts) in words
    for person in sitting.present:
        if person != sitting.recused:
            assert person.display_name in words
    assert record.verification_url() in text.replace("\n", "")
    assert re.search(r"1\D+1\s*$", words)


def test_extract_metadata(issued, body):
    record = issued[0]
    reader, _ = read(pdf.decision_extract(services.extract_of(record)))
    meta = reader.metadata
    assert record.reference in meta.title
    assert meta.author == body.name
    assert meta.subject == body.municipality
    assert reader.trailer["/Root"]["/Lang"] == body.language


def test_secret_extract_gives_totals_only(issued, sitting):
    _reader, text = read(pdf.decision_extract(services.extract_of(issued[1])))
    words = flat(text)
    assert "Camille Lenoir" in words
    with override(sitting.meeting.body.language):
        against = gettext("Voted against: %(names)s.").split(":")[0]
        abstained = gettext("Abstained: %(names)s.").split(":")[0]
    assert against not in words and abstained not in words
    # Those who voted are named only among the members present, once each.
    assert words.count(sitting.against.display_name) == 1


def test_extract_has_a_qr_code_drawn(issued):
    data = pdf.decision_extract(services.extract_of(issued[0]))
    reader = pypdf.PdfReader(io.BytesIO(data))
    stream = reader.pages[0].get_contents().get_data()
    # The QR code is one filled path of many rectangles.
    assert stream.count(b" re") > 100


def _long_content(record, words: int, name_length: int) -> dict:
    content = copy.deepcopy(record.content)
    paragraph = " ".join(["subsidiarité"] * 100)
    content["decision"] = "\n\n".join([paragraph] * (words // 100))
    long_name = ("Éloïse-Anne " + "Van den Brande-" * 6)[:name_length]
    content["present"] = [f"{long_name} {i}" for i in range(60)]
    content["vote"]["names_against"] = [long_name] * 20
    return content


def test_long_decision_and_long_accented_names_grow_pages_without_loss(issued):
    record = issued[0]
    short = pdf.decision_extract(services.extract_of(record))
    content = _long_content(record, 3000, 80)
    extract = pdf.Extract(
        content=content, fingerprint=fingerprint_of(content), verify_url="http://x/v/"
    )
    reader, text = read(pdf.decision_extract(extract))
    assert len(pypdf.PdfReader(io.BytesIO(short)).pages) == 1
    assert 5 <= len(reader.pages) <= 20
    words = flat(text)
    assert words.count("subsidiarité") == 3000
    assert "Éloïse-Anne Van den Brande" in words
    total = len(reader.pages)
    for number in range(1, total + 1):
        assert re.search(
            rf"{number}\D+{total}\s*$", reader.pages[number - 1].extract_text()
        )


def test_text_stays_inside_the_page(issued):
    record = issued[0]
    content = _long_content(record, 300, 80)
    content["present"] = ["X" * 300]  # one unbreakable word
    extract = pdf.Extract(
        content=content, fingerprint=fingerprint_of(content), verify_url="http://x/v/"
    )
    reader = pypdf.PdfReader(io.BytesIO(pdf.decision_extract(extract)))
    width = float(reader.pages[0].mediabox.width)
    seen = []

    def visitor(text, cm, tm, font, size):
        if text.strip():
            seen.append(tm[4] * cm[0] + cm[4])

    for page in reader.pages:
        page.extract_text(visitor_text=visitor)
    assert seen and max(seen) < width and min(seen) >= 0


def test_non_latin1_names_render_with_the_bundled_font(issued):
    if fonts.register() != "DejaVu Sans":
        pytest.skip("DejaVu Sans is not installed: Vera covers Latin-1 only")
    content = copy.deepcopy(issued[0].content)
    content["present"] = ["Jan Ożarowski", "Αλέξανδρος Παπαδόπουλος", "Дмитрий Иванов"]
    extract = pdf.Extract(
        content=content, fingerprint=fingerprint_of(content), verify_url="http://x/"
    )
    _reader, text = read(pdf.decision_extract(extract))
    for name in content["present"]:
        assert name in text


def test_batch_numbers_pages_per_extract(issued):
    extracts = [services.extract_of(r) for r in issued]
    done = []
    reader, _ = read(pdf.decision_extracts(extracts, progress=done.append))
    assert done == [1, 2]
    assert len(reader.pages) == 2
    for page, record in zip(reader.pages, issued, strict=True):
        text = flat(page.extract_text())
        assert record.reference in text
        assert re.search(r"1\D+1\s*$", text)


def test_minutes_pdf_has_attendance_debate_votes_and_closed_session(
    drafted, sitting, clerk
):
    services.minutes_edit(
        minutes=drafted, by=clerk, summaries={sitting.budget.pk: "Débat **animé**."}
    )
    drafted.refresh_from_db()
    reader, text = read(
        pdf.minutes_document(drafted.content, draft=True, version=drafted.version)
    )
    words = flat(text)
    for person in sitting.present:
        assert person.display_name in words
    assert sitting.excused.display_name in words
    assert sitting.absent.display_name in words
    assert sitting.recused.display_name in words
    assert "First Speaker" in words and "4:00" in words
    assert "Débat animé." in words
    assert sitting.against.display_name in words
    assert words.index("Modification budgétaire") < words.index("Désignation")
    assert "20:01" in words  # arrivals in the body's time zone (UTC+1)
    assert "Article 1er." in words
    assert reader.metadata.title and reader.metadata.author == sitting.meeting.body.name


def test_sixty_item_minutes_split_tables_across_pages(drafted):
    content = copy.deepcopy(drafted.content)
    item = content["items"][0]
    item["speeches"] = [
        dict(item["speeches"][0], order=n, name=f"Orateur {n}") for n in range(1, 41)
    ]
    content["items"] = [dict(item, id=n, position=n) for n in range(1, 61)]
    reader, text = read(pdf.minutes_document(content, draft=False, version=3))
    assert len(reader.pages) > 20
    assert flat(text).count("Orateur 40") == 60


def test_register_pdf_lists_every_event(drafted, sitting):
    _reader, text = read(pdf.attendance_register(drafted.content))
    words = flat(text)
    assert words.count(sitting.present[1].display_name) >= 2
    assert "21:35" in words  # the departure, local time


@pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbar-tools not installed")
def test_qr_code_decodes_to_the_verification_url(tmp_path):
    url = "https://conseil.example.be/verify/4f1c2d3e-0000-4000-8000-1234567890ab/"
    modules = QrCode(url).modules
    scale, border = 6, 4
    size = (len(modules) + 2 * border) * scale
    image = Image.new("L", (size, size), 255)
    for r, row in enumerate(modules):
        for c, dark in enumerate(row):
            if dark:
                x, y = (c + border) * scale, (r + border) * scale
                image.paste(0, (x, y, x + scale, y + scale))
    image.save(tmp_path / "qr.png")
    out = subprocess.run(
        ["zbarimg", "--raw", "-q", str(tmp_path / "qr.png")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.stdout.strip() == url


def test_documents_are_in_the_bodys_language(issued, body):
    content = copy.deepcopy(issued[0].content)
    for language, words in {
        "nl": [
            "Uittreksel uit het register",
            "Pagina 1 van 1",
            "De algemeen directeur",
        ],
        "de": ["Auszug aus dem Beratungsregister", "Seite 1 von 1", "Stimmen dafür"],
        "fr": ["Extrait du registre", "Page 1 sur 1", "Ont voté contre"],
    }.items():
        content["body"]["language"] = language
        extract = pdf.Extract(
            content=content, fingerprint=fingerprint_of(content), verify_url="http://x/"
        )
        reader, text = read(pdf.decision_extract(extract))
        for expected in words:
            assert expected in flat(text), (language, expected)
        assert reader.trailer["/Root"]["/Lang"] == language
    assert Body.Language.DUTCH == "nl"


def test_minutes_pdf_labels_in_french(drafted):
    _reader, text = read(pdf.minutes_document(drafted.content, draft=True, version=1))
    words = flat(text)
    assert "Procès-verbal de la séance du 2 mars 2026" in words
    assert "Présences" in words and "Excusés" in words


def test_without_dejavu_the_vera_font_shipped_with_reportlab_is_used(monkeypatch):
    monkeypatch.setattr(fonts, "_CANDIDATE_DIRS", [])
    monkeypatch.setattr(fonts, "FAMILY", "CouncilSansFallbackTest")
    assert fonts._register() == "Bitstream Vera"
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.setFont("CouncilSansFallbackTest", 12)
    canvas.drawString(72, 700, "Françoise Noël, Bénédicte Hélène, Œuvre")
    canvas.save()
    _reader, text = read(buffer.getvalue())
    assert "Françoise Noël, Bénédicte Hélène, Œuvre" in text
    assert "Vera" in pdfmetrics.getFont("CouncilSansFallbackTest").face.name.decode()


def test_markup_characters_in_names_and_titles_are_printed_as_text(drafted):
    content = copy.deepcopy(drafted.content)
    content["items"][0]["title"] = "R&D <b>budget</b> & “subsides”"
    content["attendance"]["present"][0]["name"] = "O'Brien & Fils <i>"
    content["items"][0]["speeches"][0]["name"] = "<font size=80>Grand</font>"
    content["items"][0]["decision"] = "Article 1er. <para>Texte</para> & suite."
    _reader, text = read(pdf.minutes_document(content, draft=False, version=1))
    words = flat(text)
    assert "R&D <b>budget</b> & “subsides”" in words
    assert "O'Brien & Fils <i>" in words
    assert "<font size=80>Grand</font>" in words
    assert "<para>Texte</para> & suite." in words


# ---- the audit chain's head, anchored by the paper --------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _audit_line(sequence: int, entry_hash: str, language: str = "fr") -> str:
    """The line as the body's language words it (the bodies here are French)."""
    with override(language):
        wording = gettext("Audit chain: entry %(sequence)s, %(hash)s")
    return wording % {"sequence": sequence, "hash": entry_hash[:16]}


def _anchored() -> set[tuple[int, str]]:
    return audit.audit_anchors()


def test_a_decision_extract_prints_the_audit_chain_head_and_marking_it_anchors_it(
    issued, clerk, media, django_capture_on_commit_callbacks
):
    before = _anchored()
    response = client_for(clerk).get(reverse("minutes:record_pdf", args=[issued[0].pk]))
    head = AuditEntry.objects.order_by("-sequence").first()
    _reader, text = read(response.content)
    assert _audit_line(head.sequence, head.entry_hash) in flat(text)
    assert _anchored() == before  # GET shows, it writes nothing
    with django_capture_on_commit_callbacks(execute=True):
        client_for(clerk).post(reverse("minutes:record_printed", args=[issued[0].pk]))
    newest = AuditEntry.objects.order_by("-sequence").first()
    assert newest.sequence > head.sequence
    run_jobs()  # the worker anchors it, outside the request
    assert (newest.sequence, newest.entry_hash) in _anchored()


def test_the_minutes_print_the_audit_chain_head(drafted, clerk, media):
    meeting = drafted.meeting
    before = _anchored()
    response = client_for(clerk).get(reverse("minutes:minutes_pdf", args=[meeting.pk]))
    head = AuditEntry.objects.order_by("-sequence").first()
    _reader, text = read(response.content)
    assert _audit_line(head.sequence, head.entry_hash) in flat(text)
    assert _anchored() == before  # GET shows, it writes nothing


def test_batch_prints_carry_the_head_on_every_extract(issued, sitting, clerk, media):
    job = services.print_job_start(meeting=sitting.meeting, by=clerk, kind="decisions")
    head = AuditEntry.objects.order_by("-sequence").first()
    job = services.print_job_run(job.pk)
    reader = pypdf.PdfReader(io.BytesIO(job.file.read()))
    line = _audit_line(head.sequence, head.entry_hash)
    assert all(line in flat(page.extract_text()) for page in reader.pages)
    assert (head.sequence, head.entry_hash) in _anchored()


def test_an_extract_prints_the_head_it_is_given_and_none_without(issued):
    head = audit.AuditHead(42, "ab" * 32)
    _reader, text = read(
        pdf.decision_extract(services.extract_of(issued[0], audit_head=head))
    )
    assert _audit_line(42, head.entry_hash) in flat(text)
    _reader, text = read(pdf.decision_extract(services.extract_of(issued[0])))
    assert "abababababababab" not in flat(text)
