"""qa-bot: a Discord bot that is the chat front end of a Q&A community."""

__version__ = "0.1.0"
