"""The Q&A domain: rules of the community. Never imports discord; takes ids and a session.

Calling convention. Every operation is ``async def op(session: AsyncSession, *, ...ids...)``
and runs inside a transaction the caller owns: one operation (one event) = one
``async with session.begin()``. Code that holds a sessionmaker uses
``bot.forum.uow.run_in_transaction(sessionmaker, lambda s: op(s, ...))``, which also retries
the transaction when PostgreSQL reports a serialization failure or deadlock (or SQLite is busy).
Operations return frozen dataclasses from ``bot.forum.results`` (never ORM objects) and refuse
with ``bot.forum.errors.ForumError`` subclasses whose text is the sentence the user sees.
Time-dependent operations take ``now: datetime | None = None`` (aware UTC; tests pass it).

Modules: ``questions`` (ask, edit, delete, close, reopen, reads), ``posts`` (thread messages,
/answer, /reply, pending rows, edits, deletes), ``votes``, ``acceptance``, ``points`` (the
rules, caches and ``recompute_points``), ``settings``, ``ratelimits``, ``notifications``
(the outbox), ``prefs`` (DM preferences, follows), ``uow`` (transactions and lock order).
"""
