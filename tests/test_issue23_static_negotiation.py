"""Issue 23: the static export negotiates exactly as the server does (q-values and 406
included) over a generated set of Accept headers, and carries /events, /events.ics and
/changes. Against a real nginx (skipped where nginx is not installed)."""

from __future__ import annotations

import random

import pytest

from publisher.static import NOT_ACCEPTABLE, accept_headers
from publisher.web.export import accept_maps
from tests.test_static import PREFIX, dynamic, exported, nginx  # noqa: F401 - fixtures

DOC = f"{PREFIX}/doc/organisation/bezirksamt-pankow"


def test_issue23_the_accept_map_holds_the_servers_decision_406_included():
    formats, _languages = accept_maps()
    assert set(formats) == set(accept_headers())
    assert formats["text/html;q=0.1, text/turtle;q=0.9"] == "turtle"  # issue 23's example
    assert formats["image/png"] == NOT_ACCEPTABLE
    assert formats["text/turtle;q=0, */*;q=0"] == NOT_ACCEPTABLE


def _sample(count: int) -> list[str]:
    """A reproducible sample of the generated headers, the issue's examples included."""
    headers = accept_headers()
    chosen = random.Random(23).sample(headers, count)
    return ["text/html;q=0.1, text/turtle;q=0.9", "image/png", "*/*", *chosen]


@pytest.mark.live
def test_issue23_nginx_negotiates_as_the_server_over_generated_accept_headers(
        dynamic, nginx):  # noqa: F811
    disagree = []
    for accept in _sample(600):
        ours = dynamic.get(DOC, headers={"Accept": accept})
        theirs = nginx.get(DOC, headers={"Accept": accept})
        same = ours.status_code == theirs.status_code and (
            ours.status_code != 200
            or ours.headers["content-type"] == theirs.headers["content-type"])
        if not same:
            disagree.append((accept, ours.status_code, ours.headers.get("content-type"),
                             theirs.status_code, theirs.headers.get("content-type")))
    assert not disagree, disagree[:10]


@pytest.mark.live
def test_issue23_the_export_carries_events_calendar_and_changes(dynamic, nginx):  # noqa: F811
    for path in ("/events", "/events.ics", "/changes"):
        for lang in ("de", "en"):
            ours = dynamic.get(PREFIX + path, headers={"Accept-Language": lang})
            theirs = nginx.get(PREFIX + path, headers={"Accept-Language": lang})
            assert theirs.status_code == 200, (path, lang)
            assert theirs.content == ours.content, (path, lang)
            assert theirs.headers["content-type"] == ours.headers["content-type"]
            assert theirs.headers["content-language"] == lang
    english = nginx.get(PREFIX + "/events?lang=en").text
    assert "Past events" in english
