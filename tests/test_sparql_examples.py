"""The example queries: found where they live, titled in German and English, and all runnable."""

from __future__ import annotations

import httpx
import pytest

from publisher.sparql.examples import examples_folder, load_examples
from publisher.sparql.guard import check

ROOT_QUERIES = __import__("pathlib").Path(__file__).resolve().parent / "queries"


def test_examples_are_read_from_tests_queries():
    assert examples_folder() == ROOT_QUERIES
    files = sorted(p.stem for p in ROOT_QUERIES.glob("*.rq"))
    assert [e.slug for e in load_examples()] == files


def test_titles_come_from_the_comments(tmp_path):
    (tmp_path / "b-second.rq").write_text("# title: Zweite\n# title-en: Second\nASK {}\n",
                                          encoding="utf-8")
    (tmp_path / "a-first.rq").write_text("# title: Nur Deutsch\nASK {}\n", encoding="utf-8")
    (tmp_path / "c-none.rq").write_text("ASK {}\n# title: too late\n", encoding="utf-8")
    found = load_examples(tmp_path)
    assert [(e.slug, e.title, e.title_en) for e in found] == [
        ("a-first", "Nur Deutsch", "Nur Deutsch"), ("b-second", "Zweite", "Second"),
        ("c-none", "c none", "c none")]
    assert found[1].text.endswith("ASK {}\n")


def test_missing_folder_gives_no_examples(tmp_path):
    assert load_examples(tmp_path / "absent") == []


EXAMPLES = load_examples()


@pytest.mark.skipif(not EXAMPLES, reason="no example queries in tests/queries yet")
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.slug for e in EXAMPLES])
def test_every_example_passes_the_guard_and_answers(live_server, example):
    assert example.title and example.title_en
    checked = check(example.text)
    response = httpx.post(live_server.url + "/sparql", data={"query": example.text},
                          headers={"Accept": "application/sparql-results+json, text/turtle"})
    assert response.status_code == 200, response.text
    if checked.form == "SELECT":
        assert response.json()["results"]["bindings"], "an example should find something"
