"""Presentation: everything the bot shows, in one place (STYLE.md habit 4). Imports discord,
never the database.

- ``text``: Discord's limits, ``truncate``/``excerpt`` (never over a limit), ``escape`` (user
  text shown literally), ``plural``, ``human_join``, jump links, timestamps.
- ``mentions``: ``NO_PINGS`` and ``ONLY_USER``, the ``allowed_mentions`` every send passes.
- ``embeds``: every embed, within every embed limit; one colour scheme; footer keys.
- ``emoji``: the symbols the bot shows.
- ``views``: ``ConfirmView``/``confirm``, ``LinkButtonView``, restart-proof ``Paginator``.
"""
