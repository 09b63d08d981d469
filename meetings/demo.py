"""Demo meetings: a past closed sitting and an upcoming convened hybrid one.

Called by ``manage.py seed_demo`` with the demo cast. Each meeting is made
once, found again by its title afterwards, so seeding twice changes nothing.
Convocations are recorded, not emailed: the demo must not flood a console.
"""

import datetime
import hashlib
import io
import unicodedata
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from council.audit import audit_record
from council.models import Mandate
from meetings.models import (
    AgendaItem,
    AttendanceEvent,
    Convocation,
    Document,
    FloorRequest,
    ItemSubmission,
    Meeting,
    Recusal,
)

PAST_TITLE = "Séance ordinaire du conseil communal"
NEXT_TITLE = "Séance ordinaire — budget, travaux et désignations"
PLACE = "Hôtel de ville, salle du conseil, place de l'Hôtel de Ville 1"

Kind = AgendaItem.Kind
Session = AgendaItem.Session
Vote = AgendaItem.VoteKind

# (title, kind, session, vote, note, decision, documents)
PAST_ITEMS = [
    (
        "Approbation du procès-verbal de la séance précédente",
        Kind.MINUTES_APPROVAL,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Le procès-verbal a été mis à la disposition des membres sept jours francs "
        "avant la séance.",
        "Le procès-verbal de la séance précédente est approuvé.",
        [],
    ),
    (
        "Communications du Collège communal",
        Kind.INFORMATION,
        Session.PUBLIC,
        Vote.NONE,
        "Arrêtés de l'autorité de tutelle et correspondances reçues.",
        "",
        [],
    ),
    (
        "Règlement-redevance sur la délivrance de documents administratifs "
        "— exercices 2026 à 2031",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Le règlement actuel expire le 31 décembre; les montants sont indexés.",
        "Le Conseil arrête le règlement-redevance pour les exercices 2026 à 2031.",
        ["Projet de règlement-redevance"],
    ),
    (
        "Marché de fournitures — acquisition de deux véhicules électriques pour le "
        "service des travaux",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Montant estimé : 82.000 € TVAC; procédure négociée sans publication "
        "préalable.",
        "Le Conseil approuve le cahier spécial des charges et le mode de passation.",
        ["Cahier spécial des charges"],
    ),
    (
        "Plan de cohésion sociale 2026-2031 — convention de partenariat avec "
        "l'ASBL Maison de quartier",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Convention pour l'action « école de devoirs ».",
        "Le Conseil approuve la convention de partenariat.",
        [],
    ),
    (
        "Octroi d'un subside extraordinaire au Royal Football Club de Val-de-Meuse",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Remplacement de l'éclairage du terrain synthétique : 15.000 €.",
        "Le Conseil octroie un subside extraordinaire de 15.000 €.",
        [],
    ),
    (
        "Fabrique d'église Saint-Lambert — compte 2025",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Compte présentant un boni de 3.412,18 €.",
        "Le Conseil approuve le compte 2025 de la fabrique d'église Saint-Lambert.",
        [],
    ),
    (
        "Motion relative au maintien du bureau de poste de Bas-Meuse",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Point inscrit à la demande d'un membre du Conseil (article L1122-24).",
        "Le Conseil demande le maintien d'un bureau de poste de plein exercice.",
        [],
    ),
    (
        "Enseignement — désignation d'une institutrice primaire à titre temporaire",
        Kind.APPOINTMENT,
        Session.CLOSED,
        Vote.SECRET,
        "Remplacement pour la durée d'un congé de maternité.",
        "",
        [],
    ),
    (
        "Personnel communal — admission à la pension d'un agent",
        Kind.DELIBERATION,
        Session.CLOSED,
        Vote.SECRET,
        "Demande de l'agent du 2 septembre.",
        "Le Conseil admet l'agent à la pension de retraite au 1er mars.",
        [],
    ),
]

# When each item of the past sitting was taken up and left, in minutes after
# the sitting's start (19:30): the speeches here and the votes (voting/demo.py)
# fall inside these windows, and the sitting closes after the last one.
PAST_TIMELINE = {
    1: (6, 10),
    2: (10, 18),
    3: (18, 42),
    4: (42, 58),
    5: (58, 72),
    6: (72, 92),
    7: (92, 104),
    8: (104, 132),
    9: (135, 156),
    10: (156, 162),
}
# Indices into [chair, *councillors]: PS 0-16, MR 17-27, LE 28-35, Ecolo
# 36-42, PTB 43-48. Absences spread over the groups, as they are in life.
PAST_EXCUSED = {7, 23, 34, 45, 47}
PAST_ABSENT = {13, 42, 46}
# (item position, member index, kind, seconds spoken)
PAST_SPEECHES = [
    (3, 38, "contribution", 246),
    (3, 43, "contribution", 171),
    (3, 2, "reply", 185),
    (3, 30, "contribution", 132),
    (3, 38, "reply", 61),
    (4, 39, "contribution", 174),
    (4, 19, "reply", 121),
    (6, 37, "contribution", 203),
    (6, 31, "contribution", 95),
    (6, 4, "reply", 150),
    (8, 28, "contribution", 312),
    (8, 44, "contribution", 140),
    (8, 6, "contribution", 228),
    (8, 20, "contribution", 164),
    (8, 36, "point_of_order", 38),
    (8, 28, "reply", 75),
]
# The club's president does not take part in the vote on its subsidy.
PAST_RECUSAL = (6, 9, "Membre du conseil d'administration du club bénéficiaire")

NEXT_ITEMS = [
    (
        "Approbation du procès-verbal de la séance précédente",
        Kind.MINUTES_APPROVAL,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Le projet de procès-verbal est disponible pour consultation.",
        "Le procès-verbal de la séance précédente est approuvé.",
        [],
    ),
    (
        "Communications du Collège communal",
        Kind.INFORMATION,
        Session.PUBLIC,
        Vote.NONE,
        "Approbation par la tutelle de la modification budgétaire n° 1.",
        "",
        [],
    ),
    (
        "Budget communal 2026 — modification budgétaire n° 2 (services ordinaire "
        "et extraordinaire)",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "La modification intègre l'indexation des salaires, la hausse de la "
        "dotation à la zone de police et le report de deux investissements. Le "
        "résultat général à l'exercice propre reste en boni de 214.560 €.",
        "Le Conseil arrête la modification budgétaire n° 2 de l'exercice 2026.",
        ["Note de synthèse", "Tableau des recettes et dépenses"],
    ),
    (
        "Marché public de travaux — réfection de la rue de la Station et de ses "
        "trottoirs — conditions et mode de passation",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Montant estimé : 1.245.000 € TVAC, subsidié à 60 % par le plan "
        "d'investissement communal. Procédure ouverte.",
        "Le Conseil approuve le cahier spécial des charges et choisit la "
        "procédure ouverte.",
        ["Cahier spécial des charges", "Métré estimatif"],
    ),
    (
        "Marché public de services — entretien des espaces verts 2027-2029",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Marché en trois lots; clauses sociales et environnementales.",
        "Le Conseil approuve les conditions du marché.",
        [],
    ),
    (
        "Dénomination d'une nouvelle voirie : « Rue Simone Veil » au lotissement "
        "du Bois-Fleuri",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Avis favorable de la Commission royale de toponymie et de dialectologie; "
        "enquête publique sans réclamation.",
        "Le Conseil dénomme la nouvelle voirie « Rue Simone Veil ».",
        ["Plan de situation"],
    ),
    (
        "Règlement complémentaire de police sur la circulation routière — zone 30 "
        "aux abords de l'école communale de Bas-Meuse",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Demande de l'association de parents; avis favorable de la zone de police.",
        "Le Conseil arrête le règlement complémentaire instaurant une zone 30.",
        ["Projet de règlement complémentaire"],
    ),
    (
        "Règlement général de police — modification relative aux nuisances sonores",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Harmonisation avec les communes de la zone de police.",
        "Le Conseil modifie les articles 97 à 104 du règlement général de police.",
        [],
    ),
    (
        "Octroi de subsides aux associations sportives pour l'année 2027",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Répartition de l'enveloppe de 48.000 € selon les critères du règlement.",
        "Le Conseil octroie les subsides selon le tableau annexé.",
        ["Tableau de répartition"],
    ),
    (
        "Octroi d'un subside au comité des fêtes du quartier Sainte-Walburge "
        "— marché de Noël",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Subside de 2.500 € et mise à disposition de chalets.",
        "Le Conseil octroie un subside de 2.500 €.",
        [],
    ),
    (
        "CPAS — modification budgétaire n° 2 de l'exercice 2026 — approbation",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Exercice de la tutelle spéciale d'approbation.",
        "Le Conseil approuve la modification budgétaire n° 2 du CPAS.",
        [],
    ),
    (
        "Zone de police — dotation communale 2027",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Dotation de 3.874.210 €, en hausse de 2,1 %.",
        "Le Conseil fixe la dotation communale 2027 à la zone de police.",
        [],
    ),
    (
        "Taxe sur les immeubles bâtis inoccupés — exercices 2027 à 2031",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Renouvellement du règlement selon la circulaire budgétaire.",
        "Le Conseil arrête le règlement-taxe.",
        [],
    ),
    (
        "Acquisition d'une parcelle rue du Moulin pour l'extension du cimetière "
        "— décision de principe",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Estimation du comité d'acquisition : 64.000 €.",
        "Le Conseil décide du principe de l'acquisition.",
        [],
    ),
    (
        "Intercommunale de collecte des déchets — adhésion à la centrale d'achat",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Achat groupé de conteneurs à puce.",
        "Le Conseil adhère à la centrale d'achat.",
        [],
    ),
    (
        "Plan stratégique de transversalité — rapport d'exécution annuel",
        Kind.INFORMATION,
        Session.PUBLIC,
        Vote.NONE,
        "Présentation par le directeur général.",
        "",
        [],
    ),
    (
        "Sécurisation des traversées piétonnes de la rue Haute",
        Kind.DELIBERATION,
        Session.PUBLIC,
        Vote.PUBLIC,
        "Point inscrit à la demande d'un membre du Conseil (article L1122-24) : "
        "trois accidents impliquant des piétons en un an.",
        "Le Conseil charge le Collège d'étudier un plateau ralentisseur et un "
        "éclairage renforcé des passages pour piétons.",
        [],
    ),
    (
        "Désignation d'un directeur financier",
        Kind.APPOINTMENT,
        Session.CLOSED,
        Vote.SECRET,
        "Deux candidats ont réussi l'examen. Le jury a établi un rapport sur "
        "chacun d'eux.",
        "Le Conseil désigne, au scrutin secret, le directeur financier.",
        ["Candidature — Mme Claire Vandenbroucke", "Candidature — M. Thomas Lallemand"],
    ),
    (
        "Personnel communal — mise en disponibilité pour cause de maladie d'un agent",
        Kind.APPOINTMENT,
        Session.CLOSED,
        Vote.SECRET,
        "Rapport du service du personnel.",
        "",
        [],
    ),
    (
        "Enseignement — ratification des désignations d'enseignants temporaires",
        Kind.APPOINTMENT,
        Session.CLOSED,
        Vote.SECRET,
        "Désignations décidées par le Collège pendant le mois écoulé.",
        "",
        [],
    ),
]
MEMBER_ITEM_TITLE = "Sécurisation des traversées piétonnes de la rue Haute"


def demo_pdf(title: str, subtitle: str, lines: list[str]) -> bytes:
    """A small real PDF, with fixed metadata so that its bytes never vary."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    page.setTitle(title)
    page.setFont("Helvetica-Bold", 15)
    page.drawString(60, 780, title[:80])
    page.setFont("Helvetica", 10)
    page.drawString(60, 762, subtitle[:100])
    y = 730
    for line in lines:
        for start in range(0, len(line), 95):
            page.drawString(60, y, line[start : start + 95])
            y -= 15
    page.showPage()
    page.save()
    return buffer.getvalue()


def _slug(text: str) -> str:
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in flat).split())[:60]


def _local(day: datetime.date, hour: int, minute: int, zone: str):
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=ZoneInfo(zone)
    )


def _add_items(meeting, specs, cast, at) -> list[AgendaItem]:
    members = [cast.chair, *cast.councillors]
    items = []
    for position, (title, kind, session, vote, note, decision, papers) in enumerate(
        specs, start=1
    ):
        item = AgendaItem.objects.create(
            meeting=meeting,
            position=position,
            title=title,
            kind=kind,
            session=session,
            vote_kind=vote,
            rapporteur=members[(position * 7) % len(members)]
            if kind == Kind.DELIBERATION
            else None,
            explanatory_note=note,
            draft_decision=decision,
        )
        for paper in papers:
            data = demo_pdf(
                paper,
                f"{meeting.body.name} — point {position}",
                [title, "", note, "", decision],
            )
            name = f"{_slug(paper)}.pdf"
            document = Document(
                item=item,
                title=paper,
                original_name=name,
                content_type="application/pdf",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_by=cast.clerk,
                uploaded_at=at,
            )
            document.file.save(name, ContentFile(data), save=False)
            document.save()
        items.append(item)
    return items


def _convocations(meeting, at) -> None:
    members = meeting.members_in_office()
    Convocation.objects.bulk_create(
        Convocation(
            meeting=meeting,
            person=person,
            email=person.email,
            language=meeting.body.language,
            created_at=at,
            status=Convocation.Status.SENT,
            sent_at=at,
        )
        for person in members.order_by("pk")
    )


def _past(cast, today: datetime.date) -> None:
    body = cast.body
    if Meeting.objects.filter(body=body, title=PAST_TITLE).exists():
        return
    zone = body.time_zone
    day = today - datetime.timedelta(days=24)
    start = _local(day, 19, 30, zone)
    convened = start - datetime.timedelta(days=12)
    meeting = Meeting.objects.create(
        body=body,
        number=_next_number(body),
        title=PAST_TITLE,
        starts_at=start,
        expected_end=start + datetime.timedelta(hours=3),
        mode=Meeting.Mode.IN_PERSON,
        place=PLACE,
        state=Meeting.State.CLOSED,
        convened_at=convened,
        convened_by=cast.clerk,
        opened_at=start + datetime.timedelta(minutes=4),
        closed_at=start + datetime.timedelta(minutes=PAST_TIMELINE[10][1] + 3),
    )
    _add_items(meeting, PAST_ITEMS, cast, convened)
    _convocations(meeting, convened)
    members = [cast.chair, *cast.councillors]
    excused, absent = PAST_EXCUSED, PAST_ABSENT
    events = []
    for index, person in enumerate(members):
        if index in excused:
            events.append(
                AttendanceEvent(
                    meeting=meeting,
                    person=person,
                    kind=AttendanceEvent.Kind.EXCUSED,
                    place=AttendanceEvent.Place.ROOM,
                    at=start - datetime.timedelta(hours=3),
                    recorded_by=cast.clerk,
                    note="Excusé(e) par courriel",
                )
            )
        elif index not in absent:
            events.append(
                AttendanceEvent(
                    meeting=meeting,
                    person=person,
                    kind=AttendanceEvent.Kind.ARRIVED,
                    place=AttendanceEvent.Place.ROOM,
                    at=start
                    - datetime.timedelta(minutes=10)
                    + datetime.timedelta(seconds=17 * index),
                    recorded_by=cast.clerk,
                )
            )
    AttendanceEvent.objects.bulk_create(events)
    audit_record(
        by=cast.clerk,
        action="meeting.demo_seed",
        obj=meeting,
        body=body,
        details={"state": meeting.state, "items": len(PAST_ITEMS)},
    )


def past_meeting(cast) -> Meeting | None:
    return Meeting.objects.filter(body=cast.body, title=PAST_TITLE).first()


def past_window(meeting, position: int) -> tuple[datetime.datetime, ...]:
    """When the item at ``position`` was taken up and left in the past sitting."""
    begin, end = PAST_TIMELINE[position]
    return (
        meeting.starts_at + datetime.timedelta(minutes=begin),
        meeting.starts_at + datetime.timedelta(minutes=end),
    )


def _groups(cast) -> dict[int, str]:
    return dict(
        Mandate.objects.filter(body=cast.body, group__isnull=False).values_list(
            "person_id", "group__short_name"
        )
    )


def _record_floor(cast) -> None:
    """The speeches and the recusal of the past sitting, as the console kept them."""
    meeting = past_meeting(cast)
    if meeting is None or FloorRequest.objects.filter(meeting=meeting).exists():
        return
    members = [cast.chair, *cast.councillors]
    groups = _groups(cast)
    items = {item.position: item for item in meeting.items.all()}
    cursor: dict[int, datetime.datetime] = {}
    speeches = []
    for order, (position, index, kind, seconds) in enumerate(PAST_SPEECHES):
        begin, _end = past_window(meeting, position)
        granted = cursor.get(position, begin + datetime.timedelta(minutes=2))
        ended = granted + datetime.timedelta(seconds=seconds)
        cursor[position] = ended + datetime.timedelta(seconds=25)
        person = members[index]
        speeches.append(
            FloorRequest(
                meeting=meeting,
                item=items[position],
                person=person,
                group=groups.get(person.pk, ""),
                kind=kind,
                status=FloorRequest.Status.SPOKEN,
                requested_at=min(
                    granted, begin + datetime.timedelta(seconds=40 + 7 * order)
                ),
                granted_at=granted,
                ended_at=ended,
                limit_seconds=300 if kind == "contribution" else 120,
                seconds=seconds,
                granted_by=cast.chair,
            )
        )
    FloorRequest.objects.bulk_create(speeches)
    position, index, reason = PAST_RECUSAL
    Recusal.objects.get_or_create(
        item=items[position],
        person=members[index],
        defaults={
            "reason": reason,
            "at": past_window(meeting, position)[0] + datetime.timedelta(minutes=1),
            "recorded_by": cast.clerk,
        },
    )
    audit_record(
        by=cast.clerk,
        action="meeting.demo_seed_floor",
        obj=meeting,
        body=meeting.body,
        details={"speeches": len(speeches), "recusals": 1},
    )


def _next_number(body) -> int:
    last = Meeting.objects.filter(body=body).order_by("-number").first()
    return (last.number if last else 0) + 1


def _upcoming(cast, today: datetime.date) -> None:
    body = cast.body
    if Meeting.objects.filter(body=body, title=NEXT_TITLE).exists():
        return
    zone = body.time_zone
    start = _local(today + datetime.timedelta(days=10), 19, 30, zone)
    convened = timezone.now()
    meeting = Meeting.objects.create(
        body=body,
        number=_next_number(body),
        title=NEXT_TITLE,
        starts_at=start,
        expected_end=start + datetime.timedelta(hours=3, minutes=30),
        mode=Meeting.Mode.HYBRID,
        place=PLACE,
        video_provider=Meeting.VideoProvider.JITSI,
        remote_reason=(
            "Travaux de mise en conformité de la salle du conseil : sa capacité "
            "est réduite de moitié. Les membres qui le souhaitent siègent à "
            "distance; le public suit la séance en direct."
        ),
        remote_tool="Jitsi Meet (serveur de la Ville)",
        remote_instructions=(
            "Connectez-vous à l'application avec votre compte, ouvrez la page de "
            "la séance et cliquez sur « Rejoindre la visioconférence ». "
            "Assistance technique : 04 123 45 67."
        ),
        state=Meeting.State.CONVENED,
        convened_at=convened,
        convened_by=cast.clerk,
    )
    items = _add_items(meeting, NEXT_ITEMS, cast, convened)
    _convocations(meeting, convened)
    proposer = cast.councillors[30]
    member_item = next(item for item in items if item.title == MEMBER_ITEM_TITLE)
    member_item.rapporteur = proposer
    member_item.save(update_fields=["rapporteur"])
    ItemSubmission.objects.create(
        meeting=meeting,
        submitted_by=proposer,
        submitted_at=convened - datetime.timedelta(days=1),
        title=member_item.title,
        explanatory_note=member_item.explanatory_note,
        draft_decision=member_item.draft_decision,
        status=ItemSubmission.Status.ACCEPTED,
        decided_by=cast.clerk,
        decided_at=convened,
        item=member_item,
    )
    audit_record(
        by=cast.clerk,
        action="meeting.demo_seed",
        obj=meeting,
        body=body,
        details={"state": meeting.state, "items": len(NEXT_ITEMS)},
    )


@transaction.atomic
def seed(cast) -> None:
    today = timezone.localdate()
    _past(cast, today)
    _record_floor(cast)
    _upcoming(cast, today)
