"""The legal wording of every kind of outcome, in the four languages.

``minutes.text.outcome_lines`` is the one renderer: the minutes, the decision
extracts, their PDFs and the voting pages word an outcome through it.
"""

import pytest
from django.utils import translation

from minutes.records import result_wording, vote_data
from minutes.text import outcome_lines
from voting.results import Round, VoteResult, outcome_wording

AGAINST = ["Anne Piron", "Luc Wéry", "Eva Nys"]

OUTCOMES = {
    "public_adopted": VoteResult(
        item_id=1,
        secret=False,
        decision="adopted",
        yes=32,
        no=3,
        abstain=6,
        participants=41,
        names_against=AGAINST,
        names_abstaining=["Jo Dardenne"],
    ),
    "public_rejected_on_a_tie": VoteResult(
        item_id=1,
        secret=False,
        decision="rejected",
        yes=20,
        no=20,
        abstain=1,
        participants=41,
        names_against=["Anne Piron"],
    ),
    "public_void": VoteResult(
        item_id=1,
        secret=False,
        decision="void",
        abstain=5,
        participants=5,
        names_abstaining=["Anne Piron"],
    ),
    # Names given to a secret ballot never reach its wording.
    "secret_adopted": VoteResult(
        item_id=1,
        secret=True,
        decision="adopted",
        yes=38,
        no=1,
        abstain=2,
        blank=1,
        participants=42,
        names_against=["Anne Piron"],
    ),
    "secret_pending": VoteResult.pending_for(1),
    "appointed_in_the_first_round": VoteResult(
        item_id=1,
        secret=True,
        decision="appointed",
        appointed="Claire Dumont",
        participants=41,
        rounds=[Round(1, {"Claire Dumont": 25, "Marc Lefèvre": 14}, 2, 0)],
    ),
    "runoff_with_age_deciding_second_place": VoteResult(
        item_id=1,
        secret=True,
        decision="runoff",
        tie_broken_by_age=True,
        participants=41,
        rounds=[
            Round(
                1, {"Julie Marchand": 17, "Amélie Gilson": 11, "Sarah Delvaux": 11}, 2
            )
        ],
    ),
    "runoff_tie_goes_to_the_older": VoteResult(
        item_id=1,
        secret=True,
        decision="appointed",
        appointed="Amélie Gilson",
        tie_broken_by_age=True,
        participants=41,
        rounds=[
            Round(
                1, {"Julie Marchand": 17, "Amélie Gilson": 15, "Sarah Delvaux": 7}, 2
            ),
            Round(2, {"Amélie Gilson": 20, "Julie Marchand": 20}, 1),
        ],
    ),
    "appointment_void": VoteResult(
        item_id=1,
        secret=True,
        decision="void",
        participants=3,
        rounds=[Round(1, {"Claire Dumont": 0}, 3)],
    ),
}

WORDING = {
    "fr": {
        "public_adopted": "Vote public\u202f: 32 voix pour, 3 contre, 6 abstentions. "
        "Ont voté contre\u202f: Anne Piron, Luc Wéry, Eva Nys. Se sont "
        "abstenus\u202f: Jo Dardenne. La proposition est adoptée.",
        "public_rejected_on_a_tie": "Vote public\u202f: 20 voix pour, 20 contre, 1 "
        "abstention. Ont voté contre\u202f: Anne Piron. La proposition est rejetée.",
        "public_void": "Vote public\u202f: 0 voix pour, 0 contre, 5 abstentions. Se "
        "sont abstenus\u202f: Anne Piron. Aucun suffrage exprimé\u202f: le vote est "
        "nul.",
        "secret_adopted": "Scrutin secret\u202f: 42 membres ont pris part au vote. "
        "Oui\u202f: 38\u202f; Non\u202f: 1\u202f; Abstention\u202f: 2\u202f; "
        "Blancs\u202f: 1\u202f; Nul\u202f: 0. La proposition est adoptée.",
        "secret_pending": "Scrutin secret : le résultat n’a pas encore été proclamé.",
        "appointed_in_the_first_round": "Scrutin secret\u202f: 41 membres ont pris "
        "part au vote. Tour 1 — Claire Dumont\u202f: 25\u202f; Marc Lefèvre\u202f: "
        "14\u202f; Blancs\u202f: 2\u202f; Nul\u202f: 0. Claire Dumont est "
        "désigné(e).",
        "runoff_with_age_deciding_second_place": "Scrutin secret\u202f: 41 membres "
        "ont pris part au vote. Tour 1 — Julie Marchand\u202f: 17\u202f; Amélie "
        "Gilson\u202f: 11\u202f; Sarah Delvaux\u202f: 11\u202f; Blancs\u202f: "
        "2\u202f; Nul\u202f: 0. Aucun candidat n'obtient la majorité absolue\u202f: "
        "un scrutin de ballottage suit. Une égalité a été départagée par "
        "l'âge\u202f: le candidat le plus âgé passe en premier.",
        "runoff_tie_goes_to_the_older": "Scrutin secret\u202f: 41 membres ont pris "
        "part au vote. Tour 1 — Julie Marchand\u202f: 17\u202f; Amélie "
        "Gilson\u202f: 15\u202f; Sarah Delvaux\u202f: 7\u202f; Blancs\u202f: "
        "2\u202f; Nul\u202f: 0. Tour 2 — Amélie Gilson\u202f: 20\u202f; Julie "
        "Marchand\u202f: 20\u202f; Blancs\u202f: 1\u202f; Nul\u202f: 0. Parité des "
        "voix\u202f: Amélie Gilson, candidat(e) le (la) plus âgé(e), est "
        "désigné(e).",
        "appointment_void": "Scrutin secret\u202f: 3 membres ont pris part au vote. "
        "Tour 1 — Claire Dumont\u202f: 0\u202f; Blancs\u202f: 3\u202f; Nul\u202f: "
        "0. Aucun suffrage exprimé\u202f: le vote est nul.",
    },
    "nl": {
        "public_adopted": "Openbare stemming: 32 stemmen voor, 3 tegen, 6 "
        "onthoudingen. Stemden tegen: Anne Piron, Luc Wéry, Eva Nys. Onthielden "
        "zich: Jo Dardenne. Het voorstel is aangenomen.",
        "public_rejected_on_a_tie": "Openbare stemming: 20 stemmen voor, 20 tegen, 1 "
        "onthouding. Stemden tegen: Anne Piron. Het voorstel is verworpen.",
        "public_void": "Openbare stemming: 0 stemmen voor, 0 tegen, 5 onthoudingen. "
        "Onthielden zich: Anne Piron. Er werd geen geldige stem uitgebracht: de "
        "stemming is nietig.",
        "secret_adopted": "Geheime stemming: 42 leden namen deel. Ja: 38; Nee: 1; "
        "Onthouding: 2; Blanco: 1; Ongeldig: 0. Het voorstel is aangenomen.",
        "secret_pending": "Geheime stemming: de uitslag is nog niet bekendgemaakt.",
        "appointed_in_the_first_round": "Geheime stemming: 41 leden namen deel. "
        "Ronde 1 — Claire Dumont: 25; Marc Lefèvre: 14; Blanco: 2; Ongeldig: 0. "
        "Claire Dumont is benoemd.",
        "runoff_with_age_deciding_second_place": "Geheime stemming: 41 leden namen "
        "deel. Ronde 1 — Julie Marchand: 17; Amélie Gilson: 11; Sarah Delvaux: 11; "
        "Blanco: 2; Ongeldig: 0. Geen enkele kandidaat behaalt de volstrekte "
        "meerderheid: er volgt een herstemming. Een staking van stemmen werd "
        "beslecht op leeftijd: de oudste kandidaat gaat voor.",
        "runoff_tie_goes_to_the_older": "Geheime stemming: 41 leden namen deel. "
        "Ronde 1 — Julie Marchand: 17; Amélie Gilson: 15; Sarah Delvaux: 7; Blanco: "
        "2; Ongeldig: 0. Ronde 2 — Amélie Gilson: 20; Julie Marchand: 20; Blanco: "
        "1; Ongeldig: 0. Staking van stemmen: Amélie Gilson, de oudste kandidaat, "
        "is aangesteld.",
        "appointment_void": "Geheime stemming: 3 leden namen deel. Ronde 1 — Claire "
        "Dumont: 0; Blanco: 3; Ongeldig: 0. Er werd geen geldige stem uitgebracht: "
        "de stemming is nietig.",
    },
    "de": {
        "public_adopted": "Öffentliche Abstimmung: 32 Stimmen dafür, 3 dagegen, 6 "
        "Enthaltungen. Dagegen stimmten: Anne Piron, Luc Wéry, Eva Nys. Der Stimme "
        "enthielten sich: Jo Dardenne. Der Vorschlag ist angenommen.",
        "public_rejected_on_a_tie": "Öffentliche Abstimmung: 20 Stimmen dafür, 20 "
        "dagegen, 1 Enthaltung. Dagegen stimmten: Anne Piron. Der Vorschlag ist "
        "abgelehnt.",
        "public_void": "Öffentliche Abstimmung: 0 Stimmen dafür, 0 dagegen, 5 "
        "Enthaltungen. Der Stimme enthielten sich: Anne Piron. Es wurde keine "
        "gültige Stimme abgegeben: die Abstimmung ist nichtig.",
        "secret_adopted": "Geheime Abstimmung: 42 Mitglieder nahmen teil. Ja: 38; "
        "Nein: 1; Enthaltung: 2; Leer: 1; Ungültig: 0. Der Vorschlag ist "
        "angenommen.",
        "secret_pending": "Geheime Abstimmung: das Ergebnis wurde noch nicht "
        "verkündet.",
        "appointed_in_the_first_round": "Geheime Abstimmung: 41 Mitglieder nahmen "
        "teil. Wahlgang 1 — Claire Dumont: 25; Marc Lefèvre: 14; Leer: 2; Ungültig: "
        "0. Claire Dumont ist ernannt.",
        "runoff_with_age_deciding_second_place": "Geheime Abstimmung: 41 Mitglieder "
        "nahmen teil. Wahlgang 1 — Julie Marchand: 17; Amélie Gilson: 11; Sarah "
        "Delvaux: 11; Leer: 2; Ungültig: 0. Kein Kandidat erreicht die absolute "
        "Mehrheit: Es folgt eine Stichwahl. Eine Stimmengleichheit wurde nach dem "
        "Alter entschieden: Der ältere Kandidat hat Vorrang.",
        "runoff_tie_goes_to_the_older": "Geheime Abstimmung: 41 Mitglieder nahmen "
        "teil. Wahlgang 1 — Julie Marchand: 17; Amélie Gilson: 15; Sarah Delvaux: "
        "7; Leer: 2; Ungültig: 0. Wahlgang 2 — Amélie Gilson: 20; Julie Marchand: "
        "20; Leer: 1; Ungültig: 0. Stimmengleichheit: Amélie Gilson, die ältere "
        "kandidierende Person, ist ernannt.",
        "appointment_void": "Geheime Abstimmung: 3 Mitglieder nahmen teil. Wahlgang "
        "1 — Claire Dumont: 0; Leer: 3; Ungültig: 0. Es wurde keine gültige Stimme "
        "abgegeben: die Abstimmung ist nichtig.",
    },
    "en": {
        "public_adopted": "Public vote: 32 for, 3 against, 6 abstaining. Voted "
        "against: Anne Piron, Luc Wéry, Eva Nys. Abstained: Jo Dardenne. The "
        "proposal is adopted.",
        "public_rejected_on_a_tie": "Public vote: 20 for, 20 against, 1 abstaining. "
        "Voted against: Anne Piron. The proposal is rejected.",
        "public_void": "Public vote: 0 for, 0 against, 5 abstaining. Abstained: Anne "
        "Piron. No vote was cast: the vote is void.",
        "secret_adopted": "Secret ballot: 42 members took part. Yes: 38; No: 1; "
        "Abstain: 2; Blank: 1; Invalid: 0. The proposal is adopted.",
        "secret_pending": "Secret ballot: the result has not been announced yet.",
        "appointed_in_the_first_round": "Secret ballot: 41 members took part. Round "
        "1 — Claire Dumont: 25; Marc Lefèvre: 14; Blank: 2; Invalid: 0. Claire "
        "Dumont is appointed.",
        "runoff_with_age_deciding_second_place": "Secret ballot: 41 members took "
        "part. Round 1 — Julie Marchand: 17; Amélie Gilson: 11; Sarah Delvaux: 11; "
        "Blank: 2; Invalid: 0. No candidate has the absolute majority: a run-off "
        "follows. A tie was decided by age: the older candidate goes first.",
        "runoff_tie_goes_to_the_older": "Secret ballot: 41 members took part. Round "
        "1 — Julie Marchand: 17; Amélie Gilson: 15; Sarah Delvaux: 7; Blank: 2; "
        "Invalid: 0. Round 2 — Amélie Gilson: 20; Julie Marchand: 20; Blank: 1; "
        "Invalid: 0. The votes are tied: Amélie Gilson, the older candidate, is "
        "appointed.",
        "appointment_void": "Secret ballot: 3 members took part. Round 1 — Claire "
        "Dumont: 0; Blank: 3; Invalid: 0. No vote was cast: the vote is void.",
    },
}


@pytest.mark.parametrize("kind", OUTCOMES)
@pytest.mark.parametrize("language", WORDING)
def test_every_outcome_is_worded_in_each_language(language, kind):
    with translation.override(language):
        text = " ".join(outcome_lines(vote_data(OUTCOMES[kind])))
    assert text == WORDING[language][kind]


def test_every_language_words_every_kind():
    assert all(set(words) == set(OUTCOMES) for words in WORDING.values())


@pytest.mark.parametrize("language", WORDING)
def test_a_secret_ballot_never_names_a_voter(language):
    secret = OUTCOMES["secret_adopted"]
    assert vote_data(secret)["names_against"] == []
    with translation.override(language):
        assert "Anne Piron" not in " ".join(outcome_lines(vote_data(secret)))


@pytest.mark.parametrize("kind", OUTCOMES)
def test_voting_pages_get_the_same_words_through_the_registered_renderer(kind):
    with translation.override("fr"):
        assert outcome_wording(OUTCOMES[kind]) == result_wording(OUTCOMES[kind])
        assert " ".join(outcome_wording(OUTCOMES[kind])) == WORDING["fr"][kind]


def test_no_vote_no_words():
    assert outcome_lines(None) == []
    assert outcome_wording(None) == []


@pytest.mark.parametrize(
    "language, expected",
    [
        ("fr", "Vote public\u202f: 1 voix pour, 1 contre, 1 abstention."),
        ("nl", "Openbare stemming: 1 stem voor, 1 tegen, 1 onthouding."),
        ("de", "Öffentliche Abstimmung: 1 Stimme dafür, 1 dagegen, 1 Enthaltung."),
        ("en", "Public vote: 1 for, 1 against, 1 abstaining."),
    ],
)
def test_a_count_of_one_takes_the_singular(language, expected):
    with translation.override(language):
        assert outcome_lines({"yes": 1, "no": 1, "abstain": 1})[0] == expected
