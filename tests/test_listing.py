"""Kind lists: every id/<kind>/ member, sorted by its label with umlauts folded."""

from __future__ import annotations

import pytest
from rdflib import Dataset, URIRef

from publisher.listing import list_kind
from publisher.search import fold, kind_of
from publisher.store import open_store


@pytest.fixture(scope="module")
def store(settings, release):
    return open_store(settings, release)


@pytest.fixture(scope="module")
def subjects(release) -> set[URIRef]:
    """Every IRI the release (sources and the build's metadata) says something about."""
    dataset = Dataset()
    for name in ("graph.nq", "metadata.nq"):
        if (release.path / name).exists():
            dataset.parse(release.path / name, format="nquads")
    return {s for s, _p, _o, _g in dataset.quads() if isinstance(s, URIRef)}


@pytest.mark.parametrize("kind", ["organisation", "stadtteilzentrum", "place", "concept"])
def test_members_are_exactly_the_things_of_that_kind(store, subjects, settings, kind):
    base = settings.base_uri
    listing = list_kind(store, base, kind)
    expected = {s for s in subjects if kind_of(str(s), base) == kind and "#" not in s}
    assert expected and set(listing.members) == expected


def test_sorted_by_folded_label_in_the_page_language(store, settings):
    listing = list_kind(store, settings.base_uri, "organisation")
    for lang in ("de", "en"):
        labels = [label for _m, label in listing.sorted(lang)]
        assert labels == sorted(labels, key=fold)
    german = dict(listing.sorted("de"))
    english = dict(listing.sorted("en"))
    assert german != english, "a member with an English label is listed under it in English"


@pytest.mark.parametrize("kind", ["nothing", "", "Organisation", "x y", "../id", "a" * 80])
def test_unknown_or_malformed_kinds_have_no_list(store, settings, kind):
    assert list_kind(store, settings.base_uri, kind) is None
