"""The /search route on the real data: HTML page, JSON for autocomplete, clear 400s."""

from __future__ import annotations

import httpx
import pytest


def test_json_by_format(client):
    response = client.get("/search?q=Weissensee&format=json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    results = response.get_json()["results"]
    urls = [r["url"] for r in results]
    assert "/doc/stadtteilzentrum/stz-weissensee" in urls
    assert all({"iri", "url", "kind", "label", "labels"} <= set(r) for r in results)


def test_json_by_accept(client):
    response = client.get("/search?q=wei%C3%9Fensee", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    assert "Accept" in response.headers["Vary"]
    assert response.get_json()["results"][0]["label"] == "Weißensee"


def test_html_page_lists_results_with_links(client):
    response = client.get("/search?q=stadtteilzentrum%20weissensee",
                          headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="de">' in page
    assert 'href="./doc/stadtteilzentrum/stz-weissensee"' in page  # relative to /search
    assert 'type="search" name="q"' in page


def test_english_page(client):
    page = client.get("/search?q=pankow&lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page and "results" in page


def test_nothing_found_says_so(client):
    page = client.get("/search?q=zzzzqqq").get_data(as_text=True)
    assert "Nichts gefunden" in page
    assert client.get("/search?q=zzzzqqq&format=json").get_json()["results"] == []


def test_empty_query_is_an_empty_form(client):
    response = client.get("/search")
    assert response.status_code == 200
    assert client.get("/search?format=json").get_json()["results"] == []


@pytest.mark.parametrize("query", [
    "q=" + "x" * 201, "q=a&limit=0", "q=a&limit=abc", "q=a&limit=101", "q=a&format=xml",
    "q=a&kind=nonsense",
])
def test_bad_input_is_a_400(client, query):
    assert client.get("/search?" + query).status_code == 400


def test_kind_and_limit(client):
    results = client.get("/search?q=pankow&kind=organisation&limit=3&format=json").get_json()
    assert 0 < len(results["results"]) <= 3
    assert {r["kind"] for r in results["results"]} == {"organisation"}


@pytest.mark.live
def test_live_server_answers_json(live_server):
    response = httpx.get(f"{live_server.url}/search", params={"q": "WEISSENSEE"},
                         headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    kinds = {r["kind"] for r in response.json()["results"]}
    assert {"place", "stadtteilzentrum"} <= kinds


@pytest.mark.live
@pytest.mark.parametrize(("query", "accept", "media_type"), [
    ("format=json&limit=500", None, "application/json"),
    ("format=json&kind=nope", None, "application/json"),
    ("limit=0", None, "text/html"),
    ("limit=500", None, "text/html"),
    ("format=json&limit=500", "text/turtle", "application/json"),
])
def test_issue15_search_errors_answer_in_the_format_asked_for(live_server, query, accept,
                                                              media_type):
    """`/search?format=json&limit=500` answered its 400 as Turtle."""
    import httpx

    headers = {"Accept": accept} if accept else {}
    response = httpx.get(f"{live_server.url}/search?{query}", headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"].split(";")[0] == media_type
    if media_type == "application/json":
        assert response.json()["status"] == 400 and response.json()["detail"]


@pytest.mark.parametrize("limit", ["²", "٣", "１０", "1²"])
def test_issue14_a_limit_of_other_digits_is_a_400_not_a_500(client, limit):
    """str.isdigit() holds for superscripts and other scripts' digits; int() reads only some."""
    for fmt in ("json", "html"):
        response = client.get("/search", query_string={"q": "pankow", "limit": limit,
                                                       "format": fmt})
        assert response.status_code == 400, (limit, fmt)
