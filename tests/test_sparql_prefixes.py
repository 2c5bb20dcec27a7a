"""Prefixes for the page: standard ones, kg: for the ontology, and the dump's own."""

from __future__ import annotations

from publisher.sparql.prefixes import prefixes_for, prologue


def test_prefixes_include_the_dumps_declarations(release):
    found = prefixes_for(release, release.info["base_uri"])
    assert found["kg"] == release.info["base_uri"] + "ontology/"
    assert found["rdfs"] == "http://www.w3.org/2000/01/rdf-schema#"
    dump = next(f for f in release.info["files"]
                if f["format"] == "turtle" and not f["compressed"])
    head = (release.path / dump["name"]).read_text(encoding="utf-8").split("\n\n")[0]
    for prefix, iri in found.items():
        if f"@prefix {prefix}: <{iri}>" in head:
            break
    else:
        raise AssertionError("no prefix of the dump was taken over")
    text = prologue(found)
    assert text.count("PREFIX ") == len(found)


def test_without_a_release_the_standard_prefixes_remain():
    found = prefixes_for(None, "https://example.org/")
    assert found["kg"] == "https://example.org/ontology/"
    assert "skos" in found
