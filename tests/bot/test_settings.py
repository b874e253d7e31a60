"""Process settings: defaults, one readable line per bad value, the token kept secret."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in (
        "DISCORD_TOKEN",
        "DATABASE_URL",
        "DATA_DIR",
        "DISCORD_API_BASE_URL",
        "DISCORD_GATEWAY_URL",
        "LOG_LEVEL",
        "SHARD_COUNT",
        "SHARD_IDS",
        "DEV_GUILD_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))  # no stray .env


def test_defaults_use_embedded_sqlite() -> None:
    settings = load_settings()
    assert settings.effective_database_url == "sqlite+aiosqlite:///data/qa-bot.sqlite3"
    assert settings.log_level == "INFO"
    assert settings.shard_count is None


def test_missing_token_is_one_sentence() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings().token()
    assert "copy .env.example to .env" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("env", "value", "needle"),
    [
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("SHARD_COUNT", "zero", "SHARD_COUNT"),
        ("DISCORD_API_BASE_URL", "ftp://x", "DISCORD_API_BASE_URL"),
        ("SHARD_IDS", "0,1", "SHARD_IDS needs SHARD_COUNT"),
    ],
)
def test_bad_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_shard_ids_outside_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_COUNT", "2")
    monkeypatch.setenv("SHARD_IDS", "1, 2")
    with pytest.raises(SettingsError, match="outside"):
        load_settings()


def test_shards_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_COUNT", "4")
    monkeypatch.setenv("SHARD_IDS", "0,3")
    settings = load_settings()
    assert settings.shard_ids == [0, 3]


def test_token_never_in_repr_or_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "super.secret.token")
    settings = Settings()
    assert settings.token() == "super.secret.token"
    assert "super.secret.token" not in repr(settings)
    assert "super.secret.token" not in str(settings)
    assert "super.secret.token" not in settings.model_dump_json()
