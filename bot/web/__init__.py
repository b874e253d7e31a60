"""The public web archive (``qa-bot web``, issue 24): a separate, read-only process serving the
questions that ``bot.forum.publishing`` says may be published, asked on every request.

It imports no discord and builds no SQL: its pages call the domain (``bot.forum``) in read-only
transactions on an engine opened read-only (``bot.db.engine.create_engine(read_only=True)``).
"""
