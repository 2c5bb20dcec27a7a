"""The one settings table, layered: defaults, config file, KIEZGRAPH_* environment, CLI flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

__all__ = ["SETTINGS", "ConfigError", "Setting", "Settings", "Value", "field_problems",
           "load_settings"]

ENV_PREFIX = "KIEZGRAPH_"

Value: TypeAlias = str | int | float | bool  # what a setting can be


class ConfigError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True)
class Setting:
    """One row of the settings table."""

    name: str
    default: Value
    help: str
    type: type[Value] = str
    secret: bool = False


# Every setting the publisher reads is here, once. tests/test_config.py fails when
# one is missing from README.md, so the table and the docs cannot drift apart.
SETTINGS: tuple[Setting, ...] = (
    Setting("base_uri", "https://w3id.org/kiezgraph/pankow/",
            "Base of every IRI in the graph; things live at <base>id/<kind>/<slug>."),
    Setting("root", "", "Folder holding ontology/, data/ and shapes/ (empty: the current folder "
            "when it holds them, else the copy bundled with the package)."),
    Setting("out", "build", "Folder that builds are written to and served from."),
    Setting("validation_processes", 2, "Processes that check a large graph against the "
            "shapes, each taking the next shape when it is free (forked after parsing, on "
            "Linux; 1: one process).", int),
    Setting("validation_split_triples", 10_000, "Graphs of at least this many triples are "
            "checked in validation_processes processes; smaller ones in one.", int),
    Setting("reasoning_max_triples", 10_000, "Graphs of at most this many triples also get "
            "the reasoning check (OWL 2 RL closure with ORG, PROV-O, SKOS, schema.org: no two "
            "of our IRIs inferred the same, no organisation, place or agreement inferred a "
            "skos:Concept); larger ones skip it, as it grows faster than the graph.", int),
    Setting("host", "127.0.0.1", "Address the server listens on."),
    Setting("port", 8080, "Port the server listens on.", int),
    Setting("threads", 16, "Threads that run the app (granian: behind its event loop, which "
            "reads bodies and writes answers; waitress: its worker threads).", int),
    Setting("server", "granian", "HTTP server of `kiezgraph serve`: granian (Rust HTTP; one "
            "worker process; the default, chosen by bench/wsgi.py) or waitress (pure Python; "
            "one process)."),
    Setting("rewrite_base", True, "Answer with IRIs on the host the request came to "
            "(off in production behind the real base).", bool),
    Setting("store", "", "URL of an external SPARQL 1.1 endpoint to serve from "
            "(empty: the embedded store)."),
    Setting("update_endpoint", "", "SPARQL 1.1 Update endpoint of the external store."),
    Setting("graph_store", "", "SPARQL 1.1 Graph Store HTTP Protocol endpoint of the "
            "external store."),
    Setting("store_user", "", "User name for the external store.", secret=False),
    Setting("store_password", "", "Password for the external store (never logged).",
            secret=True),
    Setting("query_timeout", 10.0, "Seconds a SPARQL query may run before it is stopped.",
            float),
    Setting("max_results", 10000, "Most rows (or triples) a SPARQL answer holds.", int),
    Setting("max_result_bytes", 16 << 20, "Most bytes a SPARQL answer holds; an answer cut "
            "here says so as the row cut does (X-Result-Truncated). The query page shows at "
            "most a quarter of it, so the page too stays about this size (0: no limit).", int),
    Setting("query_memory", 1 << 30, "Bytes of memory each SPARQL query worker may use beyond "
            "its start: the graph when loaded into memory (~330 MB at 250k triples, the "
            "loader reserving 200 MB while it runs) and the query; a query needing more gets "
            "503 and its worker is replaced (Linux; 0: no limit).", int),
    Setting("max_query_length", 20000, "Longest SPARQL query text accepted, in characters.",
            int),
    Setting("query_workers", 0, "Processes that evaluate SPARQL queries (0: for a graph "
            "loaded into memory two up to 50,000 triples, so one slow query leaves another "
            "worker, and one above, where each worker's copy of the graph, ~95 MB per 100k "
            "triples, would take serving past 400 MB; one for a graph served from the "
            "on-disk store).", int),
    Setting("max_concurrent_queries", 4, "SPARQL queries evaluated at once.", int),
    Setting("max_queued_queries", 32, "SPARQL requests that may wait for one of the "
            "`max_concurrent_queries` places (granian: on its event loop, holding no thread; "
            "the wait counts against query_timeout); beyond them 503 with Retry-After. "
            "waitress: a few wait up to 2 s on its threads.", int),
    Setting("cache_bytes", 32 << 20, "Bytes kept in memory for repeated requests, one budget "
            "for rendered documents, SPARQL answers and the whole responses made from them "
            "(least recently used dropped first; 0: nothing is kept).", int),
    Setting("store_in_memory_max_triples", 250_000, "Graphs up to this many triples are "
            "loaded into memory (faster queries); larger ones are served from the build's "
            "on-disk store, shared by all processes.", int),
    Setting("past_releases_open", 2, "Past releases kept open at once for mementos, "
            "TimeMaps and `/sparql?release=` (each opened read-only from its on-disk store "
            "when asked for, the least recently used closed first; issue 25).", int),
    Setting("license", "http://dcat-ap.de/def/licenses/cc-zero",
            "dcat-ap.de licence IRI of the dataset and its distributions."),
    Setting("contact_email", "", "E-mail address of the dataset's contact point "
            "(mailto: IRI in the catalogue)."),
    Setting("contact_url", "https://www.berlin.de/ba-pankow/",
            "Web page of the dataset's contact point."),
    Setting("contributor_id", "", "dcatde:contributorID IRI, only when GovData assigned one."),
    Setting("log_level", "INFO", "Level of the server's log (DEBUG, INFO, WARNING, ERROR)."),
    Setting("max_body_bytes", 1 << 20, "Largest request body accepted, in bytes (larger: 413).",
            int),
    Setting("body_timeout", 10.0, "Seconds a request body may take to arrive, counted from "
            "its headers; a body still arriving then gets 408 and its connection is closed. "
            "Slow bodies hold a connection, never a thread, under either server.", float),
    Setting("send_timeout", 30.0, "Seconds a client may leave an answer unread (granian: "
            "each 64 KiB of it; waitress: any write) before its connection is dropped. A "
            "slow reader holds a connection and a few frames, never a thread.", float),
    Setting("allowed_hosts", "", "Hosts a request may name in its Host header, comma-"
            "separated: `name` on the default ports (none, 80, 443), `name:port`, `name:*` "
            "on any port; `.example.org` admits its subdomains, `*` any host (empty: the "
            "base_uri's host on the default ports, and localhost, 127.0.0.1, [::1] and the "
            "host the server listens on, on any port). Any other host gets 400."),
    Setting("trusted_proxies", 0, "Reverse proxies in front of the server whose "
            "X-Forwarded-For, -Proto, -Host, -Port and -Prefix headers are believed, counted "
            "from the server (0: none; 1: one nginx).", int),
    Setting("reload_on_change", True, "Watch `OUT/current` (every second) and serve a new "
            "build once it is complete and checks out, so `kiezgraph build` shows up without "
            "a restart; false: only SIGHUP swaps in a new build.", bool),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: object) -> Value:
    """Turn a raw value (from a file, the environment or a flag) into the setting's type."""
    if value is None:
        return setting.default
    try:
        if setting.type is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(value)
        if setting.type is str:
            return str(value)
        if not isinstance(value, str | bytes | int | float):  # a TOML table, list or date
            raise TypeError(value)
        return int(value) if setting.type is int else float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"setting {setting.name!r}: {value!r} is not a valid {setting.type.__name__}"
        ) from None


@dataclass(frozen=True, repr=False)
class Settings(Mapping[str, Value]):
    """Resolved settings, read by attribute (typed) or like a mapping (for dict(settings)).

    One field per row of SETTINGS, in its order and of its type; tests/test_config.py checks
    that the two agree (field_problems), so a setting added to the table needs its field here.
    """

    base_uri: str
    root: str
    out: str
    validation_processes: int
    validation_split_triples: int
    reasoning_max_triples: int
    host: str
    port: int
    threads: int
    server: str
    rewrite_base: bool
    store: str
    update_endpoint: str
    graph_store: str
    store_user: str
    store_password: str
    query_timeout: float
    max_results: int
    max_result_bytes: int
    query_memory: int
    max_query_length: int
    query_workers: int
    max_concurrent_queries: int
    max_queued_queries: int
    cache_bytes: int
    store_in_memory_max_triples: int
    past_releases_open: int
    license: str
    contact_email: str
    contact_url: str
    contributor_id: str
    log_level: str
    max_body_bytes: int
    body_timeout: float
    send_timeout: float
    allowed_hosts: str
    trusted_proxies: int
    reload_on_change: bool

    def __post_init__(self) -> None:
        # A value of another type than its row's (say, a port given as text) fails here, not
        # at the far end of whatever reads it; load_settings and replace coerce before this.
        for setting in SETTINGS:
            value = getattr(self, setting.name)
            if not _is_a(value, setting.type):
                raise ConfigError(f"setting {setting.name!r}: {value!r} is not a valid "
                                  f"{setting.type.__name__}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Settings:
        """Settings from a mapping of every setting (say, dict(settings) sent through JSON),
        each value coerced like any other layer."""
        unknown = set(values) - _BY_NAME.keys()
        if unknown:
            raise ConfigError(f"unknown setting {sorted(unknown)[0]!r}")
        missing = [s.name for s in SETTINGS if s.name not in values]
        if missing:
            raise ConfigError(f"settings missing: {', '.join(missing)}")
        coerced = {s.name: _coerce(s, values[s.name]) for s in SETTINGS}
        # Each value has its own row's type (checked again in __post_init__); a type checker
        # sees only the union of all rows' types, so it cannot match them to the fields.
        return cls(**coerced)  # type: ignore[arg-type]

    def __getitem__(self, key: str) -> Value:
        if key not in _BY_NAME:
            raise KeyError(key)
        value: Value = getattr(self, key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(_BY_NAME)

    def __len__(self) -> int:
        return len(_BY_NAME)

    def __repr__(self) -> str:  # the dataclass's own would show the secrets
        return f"Settings({self.public()!r})"

    def replace(self, **changes: object) -> Settings:
        """Return a copy with some settings changed (coerced like any other layer)."""
        coerced: dict[str, Value] = {}
        for name, value in changes.items():
            if name not in _BY_NAME:
                raise ConfigError(f"unknown setting {name!r}")
            coerced[name] = _coerce(_BY_NAME[name], value)
        return dataclasses.replace(self, **coerced)  # type: ignore[arg-type]  # as in from_mapping

    def public(self) -> dict[str, Value]:
        """The settings with secrets masked, for logs and reports."""
        return {k: ("***" if _BY_NAME[k].secret and v else v) for k, v in self.items()}


def _is_a(value: object, kind: type[Value]) -> bool:
    """Whether a value fits a row's type (an int fits float, as a type checker lets it;
    True is no int here, though Python says it is)."""
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    return isinstance(value, kind) or (kind is float and isinstance(value, int))


def field_problems(table: tuple[Setting, ...] = SETTINGS) -> list[str]:
    """Where the typed fields of Settings and the rows of a table disagree: a row without a
    field, a field without a row, a field of another type than its row's or out of the
    table's order, a default not of its row's type."""
    hints = typing.get_type_hints(Settings)
    names = [f.name for f in dataclasses.fields(Settings)]
    problems = [f"setting {s.name!r} has no field in Settings" for s in table
                if s.name not in hints]
    problems += [f"field {name!r} of Settings is no row of the table" for name in names
                 if name not in {s.name for s in table}]
    problems += [f"setting {s.name!r} is a {s.type.__name__} in the table but "
                 f"{getattr(hints[s.name], '__name__', hints[s.name])} in Settings"
                 for s in table if s.name in hints and hints[s.name] is not s.type]
    problems += [f"setting {s.name!r}: default {s.default!r} is no {s.type.__name__}"
                 for s in table if not _is_a(s.default, s.type)]
    if not problems and names != [s.name for s in table]:
        problems.append("the fields of Settings are not in the table's order")
    return problems


def load_settings(
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Resolve settings: defaults, then the TOML config file, then KIEZGRAPH_* env, then flags."""
    env = os.environ if env is None else env
    values: dict[str, Value] = {s.name: s.default for s in SETTINGS}
    config_file = config_file or env.get(ENV_PREFIX + "CONFIG") or None
    if config_file:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        section = data.get("kiezgraph", data)
        for key, value in section.items():
            name = key.replace("-", "_")
            if name not in _BY_NAME:
                raise ConfigError(f"config file {path}: unknown setting {key!r}")
            values[name] = _coerce(_BY_NAME[name], value)
    for setting in SETTINGS:
        raw = env.get(ENV_PREFIX + setting.name.upper())
        if raw is not None:
            values[setting.name] = _coerce(setting, raw)
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name not in _BY_NAME:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = _coerce(_BY_NAME[name], value)
    settings = Settings.from_mapping(values)
    base = settings.base_uri
    if not (base.startswith(("http://", "https://")) and base.endswith("/")):
        raise ConfigError(f"base_uri must be an http(s) IRI ending in '/', not {base!r}")
    if settings.trusted_proxies < 0:
        raise ConfigError("trusted_proxies must be 0 or more")
    return settings
