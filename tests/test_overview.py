"""The home page's facts: agreement, signing, centres with Träger and Ortsteil."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from publisher.overview import read_overview
from publisher.store import EmbeddedStore

BASE = "https://w3id.org/kiezgraph/pankow/"
FIXTURE = Path(__file__).parent / "fixtures" / "network" / "graph.ttl"


@pytest.fixture(scope="module")
def overview():
    store = ox.Store()
    store.load(path=str(FIXTURE), format=ox.RdfFormat.TURTLE, base_iri=BASE)
    return read_overview(EmbeddedStore(store), BASE)


def test_agreement_and_its_texts(overview):
    assert overview.agreement.iri == BASE + "id/agreement/vertrag"
    assert overview.text("title", "en") == "Vereinbarung über die Zusammenarbeit"  # falls back
    assert overview.text("aims", "de") == ""


def test_signing_date_and_place(overview):
    assert overview.signing.date == "2022-05-05"
    assert overview.signing.place.label() == "Haus am See"


def test_centres_with_operator_and_ortsteil(overview):
    centres = {c.node.label(): c for c in overview.centres}
    assert set(centres) == {"Nachbarschaftshaus Mühle", "Stadtteilzentrum Weißensee"}
    weissensee = centres["Stadtteilzentrum Weißensee"]
    assert [o.label() for o in weissensee.operators] == ["Frauenzentrum Paula Panke e. V."]
    # Two levels below the top place (Berlin > Bezirk > Ortsteil), found through the site.
    assert weissensee.ortsteil.label() == "Weißensee"
    assert centres["Nachbarschaftshaus Mühle"].ortsteil is None
    assert overview.partner_count == 3


def test_real_data_names_the_2022_agreement(release, settings):
    from publisher.store import open_store

    overview = read_overview(open_store(settings, release), settings.base_uri)
    assert overview.agreement.iri.endswith("id/agreement/kooperationsvertrag-2022")
    assert overview.signing is not None and overview.signing.date
    assert len(overview.centres) >= 5
