"""Long-lived background work owned by the bot, each of one shape (``bot.workers.base``)."""
