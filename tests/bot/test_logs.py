"""Logging: the token never appears; discord.py's loggers never drop to DEBUG."""

from __future__ import annotations

import io
import logging

from bot.logs import configure_logging


def test_token_redacted_and_discord_loggers_stay_at_info() -> None:
    token = "MTAxMDEw.secret-token-value.xyz"
    configure_logging("DEBUG", secrets=[token])
    root = logging.getLogger()
    handler = next(h for h in root.handlers if getattr(h, "_qa_bot", False))
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        logging.getLogger("bot.test").info("connecting with %s", token)
        logging.getLogger("discord.gateway").debug("raw payload with %s", token)
        try:
            raise RuntimeError(f"bad token {token}")
        except RuntimeError:
            logging.getLogger("bot.test").exception("failed")
        handler.flush()
    finally:
        configure_logging("INFO")
    out = stream.getvalue()
    assert token not in out
    assert "[redacted]" in out
    assert "raw payload" not in out  # discord.* stays at INFO even under LOG_LEVEL=DEBUG
    assert logging.getLogger("discord").level == logging.INFO
