"""The demo council: a city council of 49 members in five political groups."""

import datetime
import functools
import random
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction

from council.auth import email_address_confirm
from council.keyholders import pending_mandates
from council.models import Body, Mandate, PoliticalGroup, User
from council.permissions import KEYHOLDER_ROLES
from council.services import keyholder_mandate_confirm, keyholder_mandate_create

DEMO_PASSWORD = "demo-council-2026"
DOMAIN = "val-de-meuse.example"

GROUPS = [
    ("Parti Socialiste", "PS", "#c8102e", 17),
    ("Mouvement Réformateur", "MR", "#0047ab", 11),
    ("Les Engagés", "LE", "#00a99d", 8),
    ("Ecolo", "ECOLO", "#3a7d1e", 7),
    ("Parti du Travail de Belgique", "PTB", "#7a0019", 6),
]

FIRST_NAMES = [
    "Marie",
    "Jean",
    "Sophie",
    "Luc",
    "Isabelle",
    "Philippe",
    "Nathalie",
    "Michel",
    "Catherine",
    "Pierre",
    "Anne",
    "Christophe",
    "Véronique",
    "Olivier",
    "Sandrine",
    "Didier",
    "Françoise",
    "Thierry",
    "Valérie",
    "Benoît",
    "Aurélie",
    "Fabrice",
    "Céline",
    "Grégory",
    "Julie",
    "Mehdi",
    "Fatima",
    "Youssef",
    "Elif",
    "Murat",
    "Chloé",
    "Maxime",
    "Laurence",
    "Hugues",
    "Bénédicte",
    "Rachid",
    "Giuseppe",
    "Ana",
    "Stéphane",
    "Delphine",
    "Jérôme",
    "Ingrid",
    "Patrick",
    "Caroline",
    "Antoine",
    "Émilie",
    "Kevin",
    "Sarah",
    "Nicolas",
    "Hélène",
]
LAST_NAMES = [
    "Dubois",
    "Lambert",
    "Dupont",
    "Martin",
    "Leclercq",
    "Renard",
    "Lejeune",
    "Fontaine",
    "Collard",
    "Mathieu",
    "Gérard",
    "Hubert",
    "Charlier",
    "Lemaire",
    "Jacquet",
    "Denis",
    "Thiry",
    "Henrard",
    "Piron",
    "Delhez",
    "Wathelet",
    "Nyssen",
    "Bastin",
    "Dechamps",
    "Closset",
    "Counet",
    "Francotte",
    "Goffin",
    "Halleux",
    "Joiris",
    "Kaiser",
    "Lhoest",
    "Marchal",
    "Noël",
    "Ożarowski",
    "Pirotte",
    "Quoilin",
    "Remacle",
    "Schmitz",
    "Tasiaux",
    "Urbain",
    "Vandenberghe",
    "Willems",
    "Yilmaz",
    "Zeghers",
    "El Amrani",
    "Russo",
    "Fernández",
    "Van Damme",
    "de Sélys Longchamps",
]


@dataclass
class DemoCast:
    body: Body
    chair: User
    director_general: User
    deputy_director_general: User
    clerk: User
    administrator: User
    councillors: list[User] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


def _ascii(text: str) -> str:
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in flat.lower() if ch.isalnum() or ch == "-")


@functools.cache
def _demo_password_hash() -> str:
    return make_password(DEMO_PASSWORD)


def _person(email: str, first: str, last: str, birth: datetime.date, **extra) -> User:
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first,
            "last_name": last,
            "birth_date": birth,
            **extra,
        },
    )
    if created:
        # One slow hash for the whole cast: the demo starts in seconds.
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    email_address_confirm(user=user)
    return user


def _mandate(person, body, role, start, group=None) -> None:
    if Mandate.objects.filter(person=person, body=body, role=role).exists():
        return
    if role in KEYHOLDER_ROLES:
        # Keyholders are made the one way the server allows, audited.
        keyholder_mandate_create(
            person=person, body=body, role=role, start=start, label="demo"
        )
        return
    Mandate.objects.create(
        person=person, body=body, role=role, start=start, group=group
    )


@transaction.atomic
def seed() -> DemoCast:
    rng = random.Random(4000)  # the same council every time
    body, _ = Body.objects.get_or_create(
        slug="val-de-meuse",
        defaults={
            "name": "Conseil communal de Val-de-Meuse",
            "kind": Body.Kind.MUNICIPAL_COUNCIL,
            "municipality": "Ville de Val-de-Meuse",
            "language": Body.Language.FRENCH,
            "seats": 49,
        },
    )
    start = datetime.date(2024, 12, 2)  # installation after the October 2024 vote
    groups = []
    for name, short, colour, seats in GROUPS:
        group, _ = PoliticalGroup.objects.get_or_create(
            body=body, short_name=short, defaults={"name": name, "colour": colour}
        )
        groups.append((group, seats))

    firsts = FIRST_NAMES[:]
    lasts = LAST_NAMES[:]
    rng.shuffle(firsts)
    rng.shuffle(lasts)
    councillors: list[User] = []
    index = 0
    for group, seats in groups:
        for _seat in range(seats):
            first, last = firsts[index % len(firsts)], lasts[index % len(lasts)]
            birth = datetime.date(
                1950 + rng.randrange(50), rng.randrange(1, 13), rng.randrange(1, 29)
            )
            email = f"{_ascii(first)}.{_ascii(last.replace(' ', '-'))}@{DOMAIN}"
            person = _person(email, first, last, birth)
            # The mayor chairs the council and is a member like the others.
            role = Mandate.Role.CHAIR if index == 0 else Mandate.Role.COUNCILLOR
            _mandate(person, body, role, start, group)
            councillors.append(person)
            index += 1
    chair = councillors[0]
    dg = _person(
        f"directeur.general@{DOMAIN}", "Bernard", "Moreau", datetime.date(1968, 3, 14)
    )
    _mandate(dg, body, Mandate.Role.DIRECTOR_GENERAL, start)
    deputy = _person(
        f"directrice.adjointe@{DOMAIN}", "Sylvie", "Lecomte", datetime.date(1975, 9, 2)
    )
    _mandate(deputy, body, Mandate.Role.DEPUTY_DIRECTOR_GENERAL, start)
    # The deputy's mandate counts once the director-general confirms it.
    for mandate in pending_mandates(body):
        keyholder_mandate_confirm(mandate=mandate, by=dg)
    clerk = _person(f"greffe@{DOMAIN}", "Karim", "Benali", datetime.date(1986, 6, 21))
    _mandate(clerk, body, Mandate.Role.CLERK, start)
    admin = _person(
        f"admin@{DOMAIN}",
        "Service",
        "Informatique",
        datetime.date(1990, 1, 1),
        is_administrator=True,
    )
    cast = DemoCast(
        body=body,
        chair=chair,
        director_general=dg,
        deputy_director_general=deputy,
        clerk=clerk,
        administrator=admin,
        councillors=councillors[1:],
    )
    cast.logins = [
        ("Chair (mayor)", chair.email),
        ("Councillor", councillors[1].email),
        ("Councillor", councillors[20].email),
        ("Director-general", dg.email),
        ("Deputy director-general", deputy.email),
        ("Clerk", clerk.email),
        ("Administrator", admin.email),
    ]
    return cast
