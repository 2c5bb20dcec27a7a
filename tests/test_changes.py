"""What changed (issue 17): each build compared with the previous release, in triples and words."""

from __future__ import annotations

import json

import pytest

from publisher.build import build
from publisher.changes import summary_text
from publisher.config import load_settings
from publisher.project import Project

EVENTS_TTL = """
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema: <http://schema.org/> .
<id/event/kiezfest-a> a schema:Event ; rdfs:label "Kiezfest A"@de ; schema:name "Kiezfest A"@de ;
    schema:startDate "2026-06-01"^^xsd:date ; dcterms:source <https://www.berlin.de/ba-pankow/> .
<id/event/kiezfest-b> a schema:Event ; rdfs:label "Kiezfest B"@de ; schema:name "Kiezfest B"@de ;
    schema:startDate "2026-06-02"^^xsd:date ; dcterms:source <https://www.berlin.de/ba-pankow/> .
"""


def _build(workdir, out):
    settings = load_settings(env={}, overrides={"out": str(out)})
    return build(Project(workdir), settings, out)


@pytest.mark.slow
def test_issue17_build_records_added_and_removed_triples_per_graph(workdir, tmp_path):
    out = tmp_path / "out"
    first = _build(workdir, out)
    assert first.release.info["changes"] is None  # nothing to compare the first one with
    (workdir / "data" / "zz-events.ttl").write_text(EVENTS_TTL, encoding="utf-8")
    url = "<https://stz-weissensee.de/>"
    stz = workdir / "data" / "stadtteilzentren.ttl"
    stz.write_text(stz.read_text(encoding="utf-8").replace(url, "<https://example.org/stz/>"),
                   encoding="utf-8")
    second = _build(workdir, out)
    changes = second.release.info["changes"]
    base = second.release.info["base_uri"]
    assert changes["previous"] == first.release.version
    assert changes["graphs"][base + "graph/data/zz-events"] == {"added": 10, "removed": 0}
    assert changes["graphs"][base + "graph/data/stadtteilzentren"] == {"added": 1,
                                                                      "removed": 1}
    assert changes["summary"] == ("neu: 2 Veranstaltungen (Kiezfest A, Kiezfest B); "
                                  "geändert: 1 Webseite (Stadtteilzentrum Weißensee)")
    folder = second.release.path
    assert (folder / "changes-added.nq").read_text().count("\n") == 11
    assert "<https://example.org/stz/>" in (folder / "changes-added.nq").read_text()
    assert "<https://stz-weissensee.de/>" in (folder / "changes-removed.nq").read_text()
    kept = json.loads((folder / "changes.json").read_text())
    assert {t["label"] for t in kept["things"]} >= {"Kiezfest A", "Stadtteilzentrum Weißensee"}
    # a rebuild of the same content keeps the record of what that content changed
    third = _build(workdir, out)
    assert third.release.version == second.release.version
    assert third.release.info["changes"]["summary"] == changes["summary"]


def test_issue17_summary_words():
    assert summary_text(None).startswith("erstes Release")
    assert summary_text({"added": 0, "removed": 0, "things": []}).startswith("keine Änderungen")
    removed = {"added": 0, "removed": 3, "things": [
        {"iri": "x", "kind": "organisation", "label": "Verein X", "change": "removed",
         "properties": []}]}
    assert summary_text(removed) == "entfernt: 1 Organisation (Verein X)"


@pytest.mark.slow
def test_issue17_changes_page_and_quads(workdir, tmp_path):
    from publisher.web import create_app

    out = tmp_path / "out"
    first = _build(workdir, out)
    (workdir / "data" / "zz-events.ttl").write_text(EVENTS_TTL, encoding="utf-8")
    second = _build(workdir, out)
    app = create_app(load_settings(env={}, overrides={"out": str(out)}))
    client = app.test_client()
    html = client.get("/changes").get_data(as_text=True)
    assert html.index(second.release.version) < html.index(first.release.version)
    assert "neu: 2 Veranstaltungen (Kiezfest A, Kiezfest B)" in html
    assert "graph/data/zz-events" in html
    added = client.get(f"/changes/{second.release.version}-added.nq")
    assert added.status_code == 200 and added.mimetype == "application/n-quads"
    assert b"kiezfest-a" in added.data
    assert client.get("/changes/nope-added.nq").status_code == 404
    assert client.get(f"/changes/{second.release.version}-other.nq").status_code == 404
    download = client.get("/download/").get_data(as_text=True)
    assert f"/changes/{second.release.version}-added.nq" in download


def test_issue17_merge_diff_equals_set_diff_and_unsorted_files_fall_back(tmp_path):
    from publisher.changes import _diff

    old = [f"<https://e.org/id/event/{i:04d}> <http://p> \"{i}\" <https://e.org/g> ."
           .encode() for i in range(0, 300, 2)]
    new = [f"<https://e.org/id/event/{i:04d}> <http://p> \"{i}\" <https://e.org/g> ."
           .encode() for i in range(0, 300, 3)]
    expected = (sorted(set(new) - set(old)), sorted(set(old) - set(new)))
    previous = tmp_path / "graph.nq"
    previous.write_bytes(b"\n".join(sorted(old)) + b"\n")
    assert _diff(previous, b"\n".join(sorted(new)) + b"\n") == expected
    previous.write_bytes(b"\n".join(reversed(sorted(old))) + b"\n")  # not canonical order
    assert _diff(previous, b"\n".join(sorted(new)) + b"\n") == expected
