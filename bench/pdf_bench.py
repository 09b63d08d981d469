"""Time the decision extract and the minutes of a 60-item sitting, in-process.

Each document is timed next to a bare ReportLab document of the same text
(built-in Helvetica, no header/footer pass, no QR code), so the cost of the
official layout shows apart from ReportLab's own.

    DJANGO_SECRET_KEY=x .venv/bin/python bench/pdf_bench.py [--extracts 200]
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

import io  # noqa: E402

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import getSampleStyleSheet  # noqa: E402
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table  # noqa: E402

from minutes import pdf  # noqa: E402
from minutes.models import fingerprint_of  # noqa: E402
from minutes.pdf import fonts  # noqa: E402

NAMES = [
    "Marie Dubois", "Jean Ożarowski", "Émilie Noël", "Benoît de Sélys Longchamps",
    "Fatima El Amrani", "Giuseppe Russo", "Ana Fernández", "Murat Yilmaz",
]  # fmt: skip


def extract_content(n: int) -> dict:
    return {
        "schema": 1,
        "reference": f"2026/val-de-meuse/{n:04d}",
        "body": {
            "name": "Conseil communal de Val-de-Meuse",
            "slug": "val-de-meuse",
            "municipality": "Ville de Val-de-Meuse",
            "kind": "municipal_council",
            "language": "fr",
        },
        "meeting": {
            "id": 1,
            "number": 7,
            "title": "Séance",
            "mode": "hybrid",
            "starts_at": "2026-03-02T18:00:00+00:00",
            "opened_at": None,
            "closed_at": None,
            "place": "Hôtel de ville",
            "time_zone": "Europe/Brussels",
        },  # fmt: skip
        "present": [f"{NAMES[i % 8]} {i}" for i in range(49)],
        "recused": [],
        "item": {
            "id": n,
            "position": n % 60 + 1,
            "kind": "deliberation",
            "session": "public",
            "title": f"Marché public n° {n} — rénovation de l’école communale",
            "rapporteur": NAMES[0],
        },  # fmt: skip
        "recitals": "Vu le Code de la démocratie locale et de la décentralisation;\n\n"
        + "Considérant que le projet répond aux besoins de la commune; " * 6,
        "decision": "Article 1er. Le conseil approuve le cahier des charges.\n\n"
        "Article 2. Le mode de passation est la procédure ouverte.",
        "vote": {
            "item_id": n,
            "secret": False,
            "decision": "adopted",
            "yes": 40,
            "no": 5,
            "abstain": 4,
            "blank": 0,
            "invalid": 0,
            "participants": 49,
            "names_against": NAMES[:5],
            "names_abstaining": NAMES[5:],
            "appointed": "",
            "rounds": [],
            "announced": True,
        },  # fmt: skip
        "signatories": {"chair": NAMES[0], "director_general": "Bernard Moreau"},
        "supersedes": None,
        "correction_reason": "",
    }


def minutes_content(items: int) -> dict:
    base = extract_content(1)
    present = [
        {
            "id": i, "name": f"{NAMES[i % 8]} {i}", "group": "PS", "member": True,
            "arrived": "2026-03-02T18:01:00+00:00", "left": None, "place": "room",
            "events": [{"kind": "arrived", "at": "2026-03-02T18:01:00+00:00",
                        "place": "room"}],
            "departures": 0,
        }
        for i in range(49)
    ]  # fmt: skip
    return {
        "schema": 1,
        "body": base["body"],
        "meeting": base["meeting"],
        "attendance": {"present": present, "excused": [], "absent": []},
        "introduction": "",
        "signatories": base["signatories"],
        "items": [
            {
                **{k: extract_content(n)["item"][k] for k in ("id", "title", "kind")},
                "position": n, "session": "public", "closed": False,
                "rapporteur": NAMES[0], "recusals": [],
                "speeches": [
                    {"order": s, "name": NAMES[s % 8], "group": "MR", "seconds": 180,
                     "kind": "contribution"} for s in range(1, 5)
                ],
                "summary": "Le débat porte sur **le coût** et le *calendrier*.",
                "vote": extract_content(n)["vote"],
                "decision": extract_content(n)["decision"],
                "recitals": "",
            }
            for n in range(1, items + 1)
        ],
    }  # fmt: skip


def bare_extract(content: dict) -> bytes:
    """The same words with plain ReportLab defaults: the floor to compare with."""
    sheet = getSampleStyleSheet()
    story = [Paragraph(content["body"]["name"], sheet["Title"])]
    story.append(Paragraph(", ".join(content["present"]), sheet["BodyText"]))
    story.append(Paragraph(content["item"]["title"], sheet["Heading2"]))
    for block in (content["recitals"], content["decision"]):
        story += [Paragraph(p, sheet["BodyText"]) for p in block.split("\n\n")]
    story.append(
        Paragraph(", ".join(content["vote"]["names_against"]), sheet["BodyText"])
    )
    story.append(Paragraph(content["reference"], sheet["BodyText"]))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build(story)
    return buffer.getvalue()


def bare_minutes(content: dict) -> bytes:
    sheet = getSampleStyleSheet()
    story = [Paragraph(content["body"]["name"], sheet["Title"])]
    story.append(
        Table(
            [[p["name"], p["group"], "18:01"] for p in content["attendance"]["present"]]
        )
    )
    for item in content["items"]:
        story.append(
            Paragraph(f"{item['position']}. {item['title']}", sheet["Heading2"])
        )
        story.append(Table([[s["name"], s["group"], "3:00"] for s in item["speeches"]]))
        story.append(Paragraph(item["summary"], sheet["BodyText"]))
        story.append(Paragraph(item["decision"], sheet["BodyText"]))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4).build(story)
    return buffer.getvalue()


def timed(function, runs: int) -> list[float]:
    times = []
    for n in range(runs):
        start = time.perf_counter()
        function(n)
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "runs": len(times),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--extracts", type=int, default=200)
    parser.add_argument("--minutes-runs", type=int, default=10)
    args = parser.parse_args()
    typeface = fonts.register()
    contents = [extract_content(n) for n in range(args.extracts)]

    def ours(n):
        c = contents[n]
        pdf.decision_extract(
            pdf.Extract(
                content=c,
                fingerprint=fingerprint_of(c),
                verify_url=f"https://conseil.example.be/verify/{n:08d}-0000-4000-8000-000000000000/",
            )
        )

    ours(0)  # register fonts, warm caches
    bare_extract(contents[0])
    sixty = minutes_content(60)
    pdf.minutes_document(sixty, draft=False, version=1)
    results = {
        "machine": f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "typeface": typeface,
        "extract": summary(timed(ours, args.extracts)),
        "extract_bare_reportlab": summary(
            timed(lambda n: bare_extract(contents[n]), args.extracts)
        ),
        "minutes_60_items": summary(
            timed(
                lambda n: pdf.minutes_document(sixty, draft=False, version=1),
                args.minutes_runs,
            )
        ),
        "minutes_60_items_bare_reportlab": summary(
            timed(lambda n: bare_minutes(sixty), args.minutes_runs)
        ),
    }
    out = Path(__file__).parent / "results" / "pdf.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
