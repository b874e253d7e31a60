"""The one error handler's sentences: domain refusals, Discord check failures, bugs."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import discord
import pytest
from discord import app_commands
from sqlalchemy.exc import OperationalError

from bot.errors import sentence_for
from bot.forum.errors import NotConfigured, ValidationError


class _Transformer(app_commands.Transformer):
    async def transform(self, interaction: Any, value: Any) -> Any:
        return value


def _sentence(error: BaseException) -> str | None:
    """``sentence_for`` in a daemon thread, so a loop that never ends fails the test instead."""
    result: list[str | None] = []
    worker = threading.Thread(target=lambda: result.append(sentence_for(error)), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert result, "sentence_for did not return"
    return result[0]


def _invoke_error(original: Exception) -> app_commands.CommandInvokeError:
    command = app_commands.Command(name="x", description="x", callback=_noop)
    return app_commands.CommandInvokeError(command, original)


async def _noop(interaction: discord.Interaction) -> None:
    return None


def test_a_domain_refusal_is_its_own_sentence() -> None:
    assert _sentence(ValidationError("Too long.")) == "Too long."
    assert _sentence(_invoke_error(NotConfigured("Run /qa setup."))) == "Run /qa setup."


def test_missing_permissions_are_named_as_discord_shows_them() -> None:
    error = app_commands.MissingPermissions(["manage_guild", "manage_threads"])
    assert _sentence(error) == ("You need the Manage Server, Manage Threads permission to do that.")


def test_a_transformer_error_without_a_cause_ends() -> None:
    error = app_commands.TransformerError(
        "123", discord.AppCommandOptionType.channel, _Transformer()
    )
    assert _sentence(error) == (
        "The bot could not use the value of one option: pick it from the list and try again."
    )


def test_a_transformer_error_caused_by_a_domain_error_is_that_sentence() -> None:
    error = app_commands.TransformerError("x", discord.AppCommandOptionType.string, _Transformer())
    error.__cause__ = ValidationError("No such category.")
    assert _sentence(error) == "No such category."


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyError("k")])
def test_a_bug_has_no_sentence(error: Exception) -> None:
    assert _sentence(error) is None
    assert _sentence(_invoke_error(error)) is None


def test_the_database_gone_is_try_again_in_a_moment() -> None:
    gone = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
    assert _sentence(_invoke_error(gone)) == (
        "The database is not answering; try again in a moment."
    )
    # A domain refusal keeps its own sentence.
    assert _sentence(ValidationError("Too long.")) == "Too long."
