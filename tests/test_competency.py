"""The competency queries in tests/queries/ answer from a real build of the shipped graph.

Each query carries a German '# title:' and an English '# title-en:' line (they double as
example queries on the endpoint's query page) and is written for the default base.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from publisher.build import build
from publisher.config import load_settings
from publisher.project import Project

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "tests" / "queries"
BASE = "https://w3id.org/kiezgraph/pankow/"
ID = BASE + "id/"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ox.Store:
    settings = load_settings(env={})
    assert settings.base_uri == BASE
    result = build(Project(ROOT), settings, tmp_path_factory.mktemp("out"))
    store = ox.Store()
    store.load(path=str(result.release.graph_file), format=ox.RdfFormat.N_QUADS)
    return store


def _rows(store: ox.Store, name: str) -> list[dict[str, str]]:
    text = (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
    solutions = store.query(text, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in solutions]


def test_every_query_has_german_and_english_titles():
    queries = sorted(QUERIES.glob("*.rq"))
    assert len(queries) >= 4
    for query in queries:
        first, second = query.read_text(encoding="utf-8").splitlines()[:2]
        assert first.startswith("# title: ") and len(first) > len("# title: "), query
        assert second.startswith("# title-en: ") and len(second) > len("# title-en: "), query


def test_who_signed_when_and_where(store):
    rows = _rows(store, "signing")
    assert {r["date"] for r in rows} == {"2022-05-05"}
    assert {r["site"] for r in rows} == {ID + "site/stz-weissensee"}
    assert {r["siteLabel"] for r in rows} == {"Stadtteilzentrum Weißensee, Pistoriusstraße 23"}
    signatories = {r["signatory"] for r in rows}
    schmitz = [r for r in rows if r["signatory"] == ID + "person/alina-schmitz"]
    assert schmitz and schmitz[0]["onBehalfOfLabel"].startswith("KIS")
    # Issue 16: the source says only that "all participants" signed, which is stated of the
    # collaboration as a whole; of the partners, no source names a signatory of its own.
    assert signatories == {ID + "person/alina-schmitz",
                           ID + "collaboration/nachbarschaftsarbeit-pankow"}


def test_partners_and_their_roles(store):
    roles: dict[str, set[str]] = {}
    for row in _rows(store, "partner-roles"):
        roles.setdefault(row["roleLabel"], set()).add(row["partnerLabel"])
    assert len(roles["Stadtteilzentrum"]) == 5
    assert roles["Träger eines Stadtteilzentrums"] == {
        "Albatros gGmbH", "FreiZeitHaus e.V.", "Pfefferwerk Stadtkultur gGmbH"}
    assert roles["Wohlfahrtsverband"] == {
        "Der Paritätische Wohlfahrtsverband Landesverband Berlin e.V."}
    assert roles["Fachverband"] == {"Verband für sozial-kulturelle Arbeit e.V."}
    assert roles["Senatsverwaltung"] == {"Senatsverwaltung für Integration, Arbeit und Soziales"}
    assert roles["Bezirksamt"] == {"Bezirksamt Pankow von Berlin"}
    assert roles["Selbsthilfekontaktstelle"] == {
        "KIS – Kontakt- und Informationsstelle für Selbsthilfe"}
    assert roles["Freiwilligenagentur"] == {"FreiwilligenAgentur Pankow"}


def test_which_operator_runs_which_stadtteilzentrum(store):
    operators = {r["stadtteilzentrum"].removeprefix(ID + "stadtteilzentrum/"): r.get("traeger")
                 for r in _rows(store, "operators")}
    assert operators == {
        "stz-weissensee": ID + "organisation/freizeithaus-ev",
        "stz-prenzlauer-berg": ID + "organisation/pfefferwerk-stadtkultur",
        "stz-karow": ID + "organisation/albatros-ggmbh",
        # no source names the Träger on 05.05.2022, so none is recorded
        "stz-buch": None,
        "stz-pankow": None,
    }


def test_fields_of_work_the_agreement_names(store):
    rows = _rows(store, "fields-of-work")
    assert {r["labelDe"] for r in rows} == {
        "Nachbarschaftsarbeit", "Stadtteilarbeit", "Selbsthilfearbeit",
        "Bürgerschaftliches Engagement", "Partizipation"}
    broader = {r["labelDe"]: r.get("broaderLabel") for r in rows}
    assert broader["Stadtteilarbeit"] == broader["Selbsthilfearbeit"] == "Nachbarschaftsarbeit"
    assert broader["Nachbarschaftsarbeit"] is None


def test_earlier_agreements(store):
    rows = _rows(store, "agreement-history")
    assert [(r["date"], r["expires"]) for r in rows] == [
        ("2008", "2017-12-31"), ("2018", "2021-12-31")]
