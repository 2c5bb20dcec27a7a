"""The label search: folding of German spellings, ranking, kinds; and the /search route."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from publisher.search import build_index, fold, folds, kind_of
from publisher.store import EmbeddedStore

BASE = "https://w3id.org/kiezgraph/pankow/"
FIXTURE = Path(__file__).parent / "fixtures" / "network" / "graph.ttl"


@pytest.fixture(scope="module")
def fixture_store() -> EmbeddedStore:
    """The small network fixture in a real embedded store."""
    store = ox.Store()
    store.load(path=str(FIXTURE), format=ox.RdfFormat.TURTLE, base_iri=BASE)
    return EmbeddedStore(store)


@pytest.fixture(scope="module")
def index(fixture_store):
    return build_index(fixture_store, BASE)


def iris(hits) -> list[str]:
    return [h.iri.removeprefix(BASE) for h in hits]


@pytest.mark.parametrize(("text", "expected"), [
    ("Weißensee", "weissensee"),
    ("WEISSENSEE", "weissensee"),
    ("Mühle", "muhle"),
    ("Café  Öl", "cafe ol"),
    ("Paula-Panke e.V.", "paula panke e v"),
])
def test_fold(text, expected):
    assert fold(text) == expected


def test_folds_gives_both_umlaut_spellings():
    assert set(folds("Mühle")) == {"muhle", "muehle"}
    assert folds("Pankow") == ("pankow",)


@pytest.mark.parametrize("query", ["Weißensee", "weissensee", "WEISSENSEE", "weiss"])
def test_sharp_s_and_case_are_folded(index, query):
    assert "id/stadtteilzentrum/stz-weissensee" in iris(index.search(query))


@pytest.mark.parametrize("query", ["Mühle", "muhle", "Muehle", "MÜHLE"])
def test_umlaut_spellings_find_each_other(index, query):
    assert iris(index.search(query)) == ["id/stadtteilzentrum/stz-muehle"]


def test_alternative_labels_are_searched(index):
    assert iris(index.search("BA Pankow")) == ["id/organisation/amt"]


def test_all_words_must_match(index):
    assert iris(index.search("Weißensee Stadtteilzentrum")) == \
        ["id/stadtteilzentrum/stz-weissensee"]
    assert index.search("Weißensee Mühle") == []


def test_prefix_matches_rank_first(index):
    ranked = iris(index.search("weißensee"))
    # The Ortsteil is named exactly "Weißensee"; the centre's label only contains it.
    assert ranked[0] == "id/place/ortsteil-weissensee"
    assert ranked.index("id/place/ortsteil-weissensee") < \
        ranked.index("id/stadtteilzentrum/stz-weissensee")


def test_only_resources_under_the_base(index):
    assert all(h.iri.startswith(BASE) for h in index.search("Weißensee"))


def test_hit_has_names_in_both_languages_and_kind(index):
    hit = index.search("stadtteilzentrum weissensee")[0]
    assert hit.kind == "stadtteilzentrum"
    assert hit.label("de") == "Stadtteilzentrum Weißensee"
    assert hit.label("en") == "Weißensee neighbourhood centre"
    assert hit.as_dict()["labels"] == {"de": "Stadtteilzentrum Weißensee",
                                       "en": "Weißensee neighbourhood centre"}


def test_kind_filter_and_limit(index):
    assert {h.kind for h in index.search("e", kind="organisation")} == {"organisation"}
    assert len(index.search("e", limit=2)) == 2


def test_empty_or_punctuation_query_finds_nothing(index):
    assert index.search("") == []
    assert index.search(" -- ") == []


@pytest.mark.parametrize(("path", "kind"), [
    ("id/organisation/amt", "organisation"),
    ("id/concept/partner-role/bezirksamt", "concept"),
    ("ontology/Stadtteilzentrum", "ontology"),
    ("ontology", "ontology"),
])
def test_kind_of(path, kind):
    assert kind_of(BASE + path, BASE) == kind
    assert kind_of("http://example.org/x", BASE) == "other"
