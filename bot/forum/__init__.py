"""The Q&A domain: rules of the community. Never imports discord; takes ids and a session.

Calling convention. Every operation is ``async def op(session: AsyncSession, *, ...ids...)``
and runs inside a transaction the caller owns: one operation (one event) = one
``async with session.begin()``. Code that holds a sessionmaker uses
``bot.forum.uow.run_in_transaction(sessionmaker, lambda s: op(s, ...))``, which also retries
the transaction when PostgreSQL reports a serialization failure or deadlock (or SQLite is busy).
Operations return frozen dataclasses, never ORM objects (the shared ones in
``bot.forum.results``), and refuse with ``bot.forum.errors.ForumError`` subclasses whose text
is the sentence the user sees. Time-dependent operations take ``now: datetime | None = None``
(aware UTC; tests pass it, ``bot.clock.utc_now`` otherwise).

Modules, by subject:

- posts and their lifecycle: ``questions`` (ask or adopt a question, close, reopen, status
  message), ``posts`` (thread messages, /answer, /reply), ``pending_posts`` (confirm or discard
  what the bot posts on someone's behalf), ``edits``, ``deletion``, ``acceptance``, ``votes``;
- reading: ``lookups`` (snapshots by id, message or thread), ``search`` with ``query_terms``
  and ``title_search`` (autocomplete), ``listing`` (/unanswered), ``leaderboard``;
- rules: ``text_rules`` (limits and validation of typed text), ``rights`` (author or
  moderator), ``ratelimits``, ``point_rules`` (the pure point rules), ``ledger`` (keeps points
  and counters right in each event), ``points`` (``recompute_points``, a member's points),
  ``roles`` (point roles);
- guild configuration: ``settings`` (typed per-guild settings), ``setting_changes``
  (/qa settings set|reset), ``categories``, ``drafts`` (questions held by the similar-questions
  gate);
- DMs: ``notifications`` (queued with the event), ``outbox`` (claims and leases),
  ``delivery`` (what happened to a send), ``dm_content`` (what a DM shows), ``prefs`` (DM
  preferences, follows, what a DM shows), ``departures`` (banned or departed members: follows
  end, DMs stop);
- reconciliation after downtime: ``reconcile`` (the window's questions, high-water marks,
  re-pages carried over, orphaned pending rows, each server's last run);
- retention: ``retention`` (finished notifications and old drafts purged, servers that removed
  the bot recorded, purged after their retention or forgotten when the bot returns);
- plumbing: ``post_rows`` (loading, inserting, updating and locking rows of posts, in one lock
  order), ``uow`` (the transaction runner), ``results``, ``errors``.
"""
