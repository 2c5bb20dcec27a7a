"""What a resource page puts first: its key facts as links and texts, and its breadcrumbs."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from publisher import labels
from publisher.search import kind_of
from publisher.summary import Summary
from publisher.web.links import page_url
from publisher.web.view import Link, Linker

__all__ = [
    "Crumb",
    "FactRow",
    "breadcrumbs",
    "fact_rows",
    "kind_list_name",
    "shown_date",
]

def kind_list_name(kind: str, lang: str) -> str:
    """The name of a kind's list page in the page language (publisher/vocabularies/pages/
    kinds.ttl, one name per kind); a kind it does not name by its path segment."""
    return labels.kind_name(kind, lang, plural=True) or kind.capitalize()


def shown_date(value: Literal, lang: str) -> str:
    """A date as people write it: 05.05.2022 in German, 2022-05-05 (ISO 8601) in English."""
    text = str(value)
    if value.datatype == XSD.date and lang == "de":
        parts = text.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            return f"{parts[2]}.{parts[1]}.{parts[0]}"
    return text


@dataclass
class FactRow:
    """One line of the key-facts block: a name and its values (links or texts)."""

    key: str
    label: str
    links: list[Link]
    texts: list[tuple[str, str | None, str | None]]  # (text, lang, ISO date for <time>)
    more: int
    missing: bool


def fact_rows(summary: Summary | None, linker: Linker, lang: str,
              shown: str | None = None) -> list[FactRow]:
    """The summary's facts, ready for the page: IRIs as links, literals as texts.

    A fact that only repeats `shown` (the description under the page's title) is left out.
    """
    if summary is None:
        return []
    rows = []
    for fact in summary.facts:
        values = fact.values_in(lang)
        if shown is not None and values and all(str(v) == shown for v in values):
            continue
        links, texts = [], []
        for value in values:
            if isinstance(value, URIRef):
                links.append(linker.link(value))
            elif isinstance(value, Literal):
                date = str(value) if value.datatype == XSD.date else None
                texts.append((shown_date(value, lang), value.language, date))
        rows.append(FactRow(key=fact.key, label=fact.label(lang), links=links, texts=texts,
                            more=fact.more, missing=not fact.values))
    return rows


@dataclass
class Crumb:
    """One step of the breadcrumb trail; the last one is the page itself (no link)."""

    label: str
    href: str | None


def _with(url: str | None, suffix: str) -> str | None:
    """A link with the page's ?lang= kept; None stays None (a page the export lacks)."""
    return None if url is None else url + suffix


def breadcrumbs(iri: URIRef, base: str, title: str, lang: str, keep_lang: bool) -> list[Crumb]:
    """Start › <Kind> › <Label>, or Start › Ontologie › <Term> for ontology terms."""
    suffix = f"?lang={lang}" if keep_lang else ""
    home = Crumb("Start" if lang == "de" else "Home", _with(page_url("pages.home"), suffix))
    kind = kind_of(str(iri), base)
    if kind == "ontology":
        middle = Crumb("Ontologie" if lang == "de" else "Ontology",
                       _with(page_url("resources.ontology"), suffix))
    elif kind == "other":
        return [home, Crumb(title, None)]
    else:
        middle = Crumb(kind_list_name(kind, lang),
                       _with(page_url("kinds.kind_list", kind=kind), suffix))
    return [home, middle, Crumb(title, None)]
