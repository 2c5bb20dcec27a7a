"""The settings table: layering, types, and that every setting is documented."""

from __future__ import annotations

import re

import pytest

from publisher.config import SETTINGS, ConfigError, Setting, Settings, field_problems, load_settings
from tests.conftest import ROOT


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS
               if f"`{s.name}`" not in readme or f"KIEZGRAPH_{s.name.upper()}" not in readme]
    assert not missing, f"settings not documented in README.md: {missing}"


def test_every_setting_has_help_text():
    assert all(len(s.help) > 10 for s in SETTINGS)
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)


def test_every_setting_has_a_typed_field_of_its_type():
    assert field_problems() == []


def test_a_row_without_its_typed_field_is_caught():
    extra = Setting("colour", "blue", "A setting that Settings has no field for.")
    assert field_problems((*SETTINGS, extra)) == [
        "setting 'colour' has no field in Settings"]
    port_as_text = tuple(Setting(s.name, str(s.default), s.help, str) if s.name == "port" else s
                         for s in SETTINGS)
    assert field_problems(port_as_text) == [
        "setting 'port' is a str in the table but int in Settings"]
    assert field_problems(SETTINGS[1:]) == [
        "field 'base_uri' of Settings is no row of the table"]
    wrong_default = tuple(Setting(s.name, "eighty", s.help, int) if s.name == "port" else s
                          for s in SETTINGS)
    assert field_problems(wrong_default) == ["setting 'port': default 'eighty' is no int"]
    assert field_problems(SETTINGS[::-1]) == [
        "the fields of Settings are not in the table's order"]


def test_settings_read_by_attribute_key_and_as_a_mapping():
    settings = load_settings(env={})
    assert settings.port == settings["port"] == dict(settings)["port"] == 8080
    assert list(settings) == [s.name for s in SETTINGS]
    assert Settings.from_mapping(dict(settings)) == settings
    assert settings.replace(port="9000").port == 9000
    with pytest.raises(ConfigError, match="unknown setting"):
        settings.replace(colour="blue")
    with pytest.raises(ConfigError, match="port"):  # a typed field holds only its type
        Settings.from_mapping({**settings, "port": "eighty"})


def test_layers_apply_in_order(tmp_path):
    config = tmp_path / "kiezgraph.toml"
    config.write_text('port = 9000\nthreads = 3\nhost = "0.0.0.0"\n', encoding="utf-8")
    env = {"KIEZGRAPH_PORT": "9100", "KIEZGRAPH_THREADS": "5"}
    settings = load_settings(config, env=env, overrides={"port": 9200})
    assert settings.host == "0.0.0.0"  # file beats default
    assert settings.threads == 5  # environment beats file
    assert settings.port == 9200  # flag beats environment
    assert settings.query_timeout == 10.0  # default


def test_bad_values_give_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="port"):
        load_settings(env={"KIEZGRAPH_PORT": "eighty"})
    with pytest.raises(ConfigError, match="base_uri"):
        load_settings(env={"KIEZGRAPH_BASE_URI": "ftp://x"})
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad, env={})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(unknown, env={})


def test_booleans_and_secrets():
    settings = load_settings(env={"KIEZGRAPH_REWRITE_BASE": "off",
                                  "KIEZGRAPH_STORE_PASSWORD": "s3cret"})
    assert settings.rewrite_base is False
    assert "s3cret" not in repr(settings.public())
    assert "s3cret" not in repr(settings)
    assert re.fullmatch(r"\*+", settings.public()["store_password"])
