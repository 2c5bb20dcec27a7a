"""A resource page of each kind in Chromium: breadcrumbs, key facts, accessible, fits 360 px;
and the kind list pages. Screenshots of each go to test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import expect

KINDS = {
    "organisation": ("/doc/organisation/freizeithaus-ev", ["operates", "role"]),
    "stadtteilzentrum": ("/doc/stadtteilzentrum/stz-weissensee",
                         ["operator", "address", "agreement", "role"]),
    "agreement": ("/doc/agreement/kooperationsvertrag-2022",
                  ["date", "signing-place", "partners", "signatories", "fields"]),
    "event": ("/doc/event/fest-der-nachbarn-2017-teutoburger-platz", ["date", "organiser"]),
    "place": ("/doc/place/ortsteil-karow", ["contained-in", "here"]),
    "concept": ("/doc/concept/partner-role/stadtteilzentrum", ["scheme", "in-role"]),
    "term": ("/doc/ontology/operatedBy", ["domain", "range"]),
}
MAX_BYTES = 200 * 1024


@pytest.mark.parametrize("kind", list(KINDS))
def test_resource_page_of_each_kind(browse, tools, kind):
    page = browse.page
    path, facts = KINDS[kind]
    response = page.goto(page.base + path)
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "de")
    crumbs = page.locator('nav[aria-label="Breadcrumb"] ol > li')
    expect(crumbs).to_have_count(3)
    expect(crumbs.nth(2)).to_have_text(page.locator("h1").inner_text())
    summary = page.locator("section.summary")
    expect(summary).to_be_visible()
    for key in facts:
        value = summary.locator(f'[data-fact="{key}"] dd')
        expect(value).to_be_visible()
        assert value.inner_text().strip(), f"{kind}: empty {key}"
    expect(page.locator("#sources")).to_have_text("Quellen")
    problems = tools.axe(page)
    weight = tools.page_weight(page)
    if weight >= MAX_BYTES:
        problems.append(f"{kind} page weighs {weight} bytes with its assets")
    tools.screenshot(page, f"resource-{kind}")
    page.set_viewport_size({"width": 360, "height": 800})
    if not tools.no_horizontal_scroll(page):
        problems.append(f"the {kind} page is wider than a 360 px screen")
    assert not problems, "\n".join(problems)

    crumbs.nth(1).locator("a").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_be_visible()


def test_kind_list_page_and_back_by_keyboard(browse, tools):
    page = browse.page
    page.goto(page.base + "/")
    entry = page.locator("ul.kinds details").filter(
        has=page.locator('a[href$="doc/stadtteilzentrum/"]'))
    entry.locator("summary").click()
    entry.locator('a[href$="doc/stadtteilzentrum/"]').click()
    page.wait_for_url("**/doc/stadtteilzentrum/")
    expect(page.locator("h1")).to_have_text("Stadtteilzentren")
    items = page.locator("ul.kind-list a")
    labels = items.all_inner_texts()
    assert len(labels) >= 5 and labels == sorted(labels, key=str.casefold)
    assert not tools.axe(page)
    tools.screenshot(page, "kind-list")
    link = page.locator("ul.kind-list a", has_text="Stadtteilzentrum Weißensee")
    link.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Stadtteilzentrum Weißensee")
    page.locator('a[hreflang="en"]').first.click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator('nav[aria-label="Breadcrumb"] li').nth(1)).to_have_text(
        "Neighbourhood centres")
    expect(page.locator("#summary")).to_have_text("At a glance")
