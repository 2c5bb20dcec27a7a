"""Pictures of the network as SVG: partners by role, and the Stadtteilzentren on a map."""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from publisher.namespaces import GEO, ORG, SCHEMA, SKOS, WGS, kg
from publisher.search import build_index, kind_of

__all__ = ["Group", "Network", "Node", "map_svg", "network_svg", "read_network", "read_places"]


Href = Callable[[str], str]


@dataclass(frozen=True)
class Node:
    """A resource in the picture: its IRI, kind and names by language."""

    iri: str
    kind: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    def label(self, lang: str = "de") -> str:
        """The name in lang, else German, else English, else the IRI's last segment."""
        return (self.labels.get(lang) or self.labels.get("de") or self.labels.get("en")
                or self.labels.get("") or self.iri.rstrip("/").rsplit("/", 1)[-1])


@dataclass
class Group:
    """The partners that take part in one role (role None: partners without a stated role)."""

    role: Node | None
    members: list[Node]


@dataclass
class Network:
    """The agreements, the collaborations resting on them, and the partners by role."""

    agreements: list[Node]
    collaborations: list[Node]
    groups: list[Group]

    def __bool__(self) -> bool:
        return bool(self.agreements or self.collaborations or self.groups)


def _node(iri: str, base: str, names: Mapping[str, Mapping[str, str]]) -> Node:
    return Node(iri=iri, kind=kind_of(iri, base), labels=dict(names.get(iri, {})))


def read_network(store, base: str, index=None) -> Network:
    """Read agreements, collaborations, memberships (org:Membership) and partners from a store."""
    names = (index if index is not None else build_index(store, base)).names
    ont = kg(base)
    # The agreements a collaboration rests on; earlier ones (revised since) only when none is.
    agreements = sorted({str(r["a"]) for r in store.select(
        f"SELECT DISTINCT ?a WHERE {{ ?a a <{ont.CooperationAgreement}> . "
        f"?c <{ont.basedOn}> ?a }}")}) or sorted({str(r["a"]) for r in store.select(
        f"SELECT DISTINCT ?a WHERE {{ ?a a <{ont.CooperationAgreement}> }}")})
    collaborations = sorted({str(r["c"]) for r in store.select(
        f"SELECT DISTINCT ?c WHERE {{ ?c a <{ORG.OrganizationalCollaboration}> }}")})
    rows = store.select(
        f"SELECT DISTINCT ?member ?role WHERE {{ ?m <{ORG.member}> ?member ; "
        f"<{ORG.organization}> ?c . ?c a <{ORG.OrganizationalCollaboration}> . "
        f"OPTIONAL {{ ?m <{ORG.role}> ?role }} }}")
    partners = {str(r["p"]) for r in store.select(
        f"SELECT DISTINCT ?p WHERE {{ ?a <{ont.partner}> ?p }}")}
    by_role: dict[str | None, set[str]] = {}
    for row in rows:
        role = str(row["role"]) if "role" in row else None
        by_role.setdefault(role, set()).add(str(row["member"]))
    seen = set().union(*by_role.values()) if by_role else set()
    if partners - seen:
        by_role.setdefault(None, set()).update(partners - seen)
    notations = {str(r["r"]): str(r["n"]) for r in store.select(
        f"SELECT ?r ?n WHERE {{ ?r <{SKOS.notation}> ?n }}")} if by_role else {}

    def role_key(role: str | None) -> tuple:
        if role is None:
            return (2, "", "")
        return (0 if role in notations else 1, notations.get(role, ""),
                _node(role, base, names).label("de").casefold())

    groups = [
        Group(role=_node(role, base, names) if role else None,
              members=sorted((_node(m, base, names) for m in members),
                             key=lambda n: n.label("de").casefold()))
        for role, members in sorted(by_role.items(), key=lambda item: role_key(item[0]))
    ]
    return Network(agreements=[_node(a, base, names) for a in agreements],
                   collaborations=[_node(c, base, names) for c in collaborations],
                   groups=groups)


# --- drawing ----------------------------------------------------------------
# Hand-written SVG: the picture is a few boxes in rows, and a layout library would
# bring a JavaScript runtime or a native toolchain for what is arithmetic.

FONT = 13
LINE = 17
PAD = 8
COLUMN = 176
GAP = 14
CHAR = 0.56 * FONT  # average advance of a sans-serif character, for wrapping

COLOURS = {
    "agreement": ("#1d4f91", "#ffffff"),
    "collaboration": ("#1f6f43", "#ffffff"),
    "role": ("#f3f5f8", "#1b1f24"),
    "member": ("#ffffff", "#1b1f24"),
}


def _wrap(text: str, width: float, bold: bool = False) -> tuple[list[str], float]:
    """The text broken into lines that fit width, and the font size that makes them fit."""
    char = CHAR * (1.08 if bold else 1.0)
    room = width - 2 * PAD
    lines = textwrap.wrap(text, max(8, int(room / char)), break_long_words=False,
                          break_on_hyphens=True) or [text]
    # A long German compound does not break: shrink the type of this box until it fits.
    longest = max(len(line) for line in lines)
    size = min(FONT, FONT * room / (longest * char)) if longest * char > room else FONT
    return lines, round(size, 1)


def _box(x: float, y: float, w: float, text: str, style: str, url: str | None,
         title: str, bold: bool = False) -> tuple[str, float]:
    """One labelled box, a link when url is given; returns the SVG and its height."""
    fill, ink = COLOURS[style]
    lines, size = _wrap(text, w, bold)
    h = len(lines) * LINE + 2 * PAD - 2
    weight = ' font-weight="600"' if bold else ""
    if size != FONT:
        weight += f' font-size="{size}"'
    texts = "".join(
        f'<tspan x="{x + w / 2:.1f}" y="{y + PAD + (i + 1) * LINE - 4:.1f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines))
    shape = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" '
             f'fill="{fill}" stroke="#5b6b7f"/>'
             f'<text text-anchor="middle" fill="{ink}"{weight}>{texts}</text>')
    if url is None:
        return f"<g>{shape}</g>", h
    return (f'<a href={quoteattr(url)} class="node"><title>{escape(title)}</title>{shape}</a>',
            h)


def network_svg(net: Network, lang: str = "de", href: Href = str) -> str:
    """The network as an SVG element: agreements, collaborations, then one column per role."""
    columns = max(1, len(net.groups))
    width = max(columns * (COLUMN + GAP) + GAP, 3 * COLUMN)
    parts: list[str] = []
    y: float = GAP
    centre = width / 2

    def row(nodes: list[Node], style: str, top: float) -> tuple[float, list[float]]:
        w = min(2.2 * COLUMN, (width - GAP) / max(1, len(nodes)) - GAP)
        total = len(nodes) * (w + GAP) - GAP
        x = centre - total / 2
        height, centres = 0.0, []
        for node in nodes:
            svg, h = _box(x, top, w, node.label(lang), style, href(node.iri),
                          node.label(lang), bold=True)
            parts.append(svg)
            centres.append(x + w / 2)
            height = max(height, h)
            x += w + GAP
        return height, centres

    joins: list[tuple[float, float]] = []  # (x, y) of the bottom of the row above
    for nodes, style in ((net.agreements, "agreement"), (net.collaborations, "collaboration")):
        if not nodes:
            continue
        if joins:
            parts.extend(f'<line x1="{jx:.1f}" y1="{jy:.1f}" x2="{centre:.1f}" y2="{y:.1f}" '
                         f'stroke="#5b6b7f" stroke-width="1.5"/>' for jx, jy in joins)
        height, centres = row(nodes, style, y)
        joins = [(c, y + height) for c in centres]
        y += height + 3 * GAP

    none_name = {"de": "Partner:innen", "en": "Partners"}.get(lang, "Partners")
    bottom = y
    for i, group in enumerate(net.groups):
        x = GAP + i * (COLUMN + GAP) + (width - columns * (COLUMN + GAP) - GAP) / 2
        top = y
        for jx, jy in joins:
            parts.append(f'<line x1="{jx:.1f}" y1="{jy:.1f}" x2="{x + COLUMN / 2:.1f}" '
                         f'y2="{top:.1f}" stroke="#9aa6b2" stroke-width="1"/>')
        title = group.role.label(lang) if group.role else none_name
        svg, h = _box(x, top, COLUMN, title, "role",
                      href(group.role.iri) if group.role else None, title, bold=True)
        parts.append(svg)
        top += h + 6
        for member in group.members:
            svg, h = _box(x + 6, top, COLUMN - 12, member.label(lang), "member",
                          href(member.iri), member.label(lang))
            parts.append(svg)
            top += h + 6
        bottom = max(bottom, top)
    height = bottom + GAP
    label = {"de": "Das Kooperationsnetz: Vereinbarung, Zusammenarbeit und Partner:innen "
                   "nach Rolle", "en": "The cooperation network: agreement, collaboration and "
                   "partners by role"}.get(lang, "")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="network" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'height="{height:.0f}" font-family="system-ui, sans-serif" font-size="{FONT}" '
            f'aria-labelledby="network-title"><title id="network-title">{escape(label)}'
            f'</title>{"".join(parts)}</svg>')


# --- the map ----------------------------------------------------------------

_NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_PAIR = re.compile(rf"({_NUMBER})\s+({_NUMBER})")


@dataclass
class Places:
    """Points (Stadtteilzentren) and outlines (Ortsteile) found in the data, in lon/lat."""

    points: list[tuple[Node, float, float]]
    outlines: list[tuple[Node, list[list[tuple[float, float]]]]]


def _rings(wkt: str) -> list[list[tuple[float, float]]]:
    """The coordinate rings of a WKT POLYGON or MULTIPOLYGON (lon lat order, CRS84)."""
    # A WKT reader (shapely) would be a native dependency for reading number pairs;
    # the rings are all the drawing needs.
    wkt = re.sub(r"^\s*<[^>]*>\s*", "", wkt)  # an optional CRS IRI before the geometry
    rings = []
    for ring in re.findall(r"\(([^()]+)\)", wkt):
        points = [(float(a), float(b)) for a, b in _PAIR.findall(ring)]
        if len(points) >= 3:
            rings.append(points)
    return rings


def read_places(store, base: str, index=None) -> Places:
    """The Stadtteilzentren that have coordinates, and the places that have outlines."""
    names = (index if index is not None else build_index(store, base)).names
    ont = kg(base)
    found: dict[str, tuple[float, float]] = {}
    rows = store.select(
        f"SELECT ?s ?lat ?long ?wkt WHERE {{ ?s a <{ont.Stadtteilzentrum}> . "
        f"OPTIONAL {{ ?s (<{ORG.hasSite}>|<{ORG.basedAt}>|<{SCHEMA.location}>)? ?at . "
        f"{{ ?at <{WGS.lat}> ?lat ; <{WGS.long}> ?long }} UNION "
        f"{{ ?at <{SCHEMA.geo}> ?g . ?g <{SCHEMA.latitude}> ?lat ; <{SCHEMA.longitude}> ?long }}"
        f" UNION {{ ?at <{GEO.hasGeometry}>/<{GEO.asWKT}> ?wkt }} }} }}")
    for row in rows:
        iri = str(row["s"])
        if "lat" in row and "long" in row:
            found.setdefault(iri, (float(row["long"]), float(row["lat"])))
        elif "wkt" in row:
            match = re.search(rf"POINT\s*\(\s*({_NUMBER})\s+({_NUMBER})\s*\)", str(row["wkt"]))
            if match:
                found.setdefault(iri, (float(match[1]), float(match[2])))
    points = [(_node(iri, base, names), lon, lat) for iri, (lon, lat) in sorted(found.items())]
    outlines = []
    for row in store.select(
            f"SELECT ?p ?wkt WHERE {{ ?p <{GEO.hasGeometry}>/<{GEO.asWKT}> ?wkt . "
            f'FILTER(STRSTARTS(STR(?p), "{base}")) }} ORDER BY ?p'):
        rings = _rings(str(row["wkt"]))
        if rings and "POLYGON" in str(row["wkt"]).upper():
            outlines.append((_node(str(row["p"]), base, names), rings))
    return Places(points=points, outlines=outlines)


def map_svg(places: Places, lang: str = "de", href: Href = str,
            width: int = 640) -> str | None:
    """The Stadtteilzentren on the outlines of the Ortsteile; None when no point has coordinates."""
    if not places.points:
        return None
    lons = [lon for _n, lon, _l in places.points] + [
        lon for _n, rings in places.outlines for ring in rings for lon, _l in ring]
    lats = [lat for _n, _o, lat in places.points] + [
        lat for _n, rings in places.outlines for ring in rings for _o, lat in ring]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    # Equirectangular, with longitudes shrunk by cos(latitude): true enough for a district.
    shrink = math.cos(math.radians((north + south) / 2))
    span_x = max((east - west) * shrink, 1e-4)
    span_y = max(north - south, 1e-4)
    margin = 24
    scale = (width - 2 * margin) / max(span_x, span_y)
    height = span_y * scale + 2 * margin

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return margin + (lon - west) * shrink * scale, margin + (north - lat) * scale

    parts = []
    for node, rings in places.outlines:
        path = " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in map(
            lambda p: xy(*p), ring)) + " Z" for ring in rings)
        parts.append(f'<a href={quoteattr(href(node.iri))} class="area"><title>'
                     f'{escape(node.label(lang))}</title><path d="{path}" fill="#eef2f6" '
                     f'stroke="#7a8796"/></a>')
    for node, lon, lat in places.points:
        x, y = xy(lon, lat)
        parts.append(f'<a href={quoteattr(href(node.iri))} class="node"><title>'
                     f'{escape(node.label(lang))}</title><circle cx="{x:.1f}" cy="{y:.1f}" '
                     f'r="7" fill="#1d4f91" stroke="#ffffff" stroke-width="2"/>'
                     f'<text x="{x + 10:.1f}" y="{y + 4:.1f}">{escape(node.label(lang))}</text>'
                     f'</a>')
    label = {"de": "Die Stadtteilzentren auf der Karte der Ortsteile",
             "en": "The neighbourhood centres on a map of the Ortsteile"}.get(lang, "")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {width} '
            f'{height:.0f}" width="{width}" height="{height:.0f}" font-family="system-ui, '
            f'sans-serif" font-size="{FONT}" aria-labelledby="map-title"><title id="map-title">'
            f'{escape(label)}</title>{"".join(parts)}</svg>')
