"""Presentation: everything the bot shows, in one place (STYLE.md habit 4). Imports discord and
the domain's result types, never the database.

- ``text``: Discord's limits, ``truncate``/``excerpt`` (never over a limit), ``escape`` (user
  text shown literally), ``plural``, ``human_join``, jump links, timestamps.
- ``mentions``: ``NO_PINGS`` and ``ONLY_USER``, the ``allowed_mentions`` every send passes.
- ``emoji``: the symbols the bot shows.
- ``authors``: ``author_label``, the one author line of every post the bot shows.
- ``embeds``: what every embed shares: one colour scheme, footer keys, limits (``fit``), the
  building blocks, and the ``error``/``success``/``info`` replies.
- ``questions``: the status line, question and answer embeds, the status reply, the acceptance
  notice.
- ``question_lists``: ``/search`` results, ``/unanswered`` pages, similar and related questions.
- ``dms``: the notification DMs (``render_dm``).
- ``profiles``: ``/profile`` and ``/leaderboard`` pages.
- ``admin``: ``/qa setup``, ``/qa settings show`` and ``/qa status``.
- ``point_roles``: ``/qa roles`` and the point-role warnings.
- ``closing``: the closing, duplicate, reopening and closed-thread texts.
- ``anonymity``: what an anonymous author is told (ephemerally) to stay anonymous.
- ``views``: ``ConfirmView``/``confirm``, ``LinkButtonView``, restart-proof ``Paginator``.
"""
