"""Long-lived background work owned by the bot, each of one shape (``bot.workers.base``).

In the order the bot starts them (``QABot.workers``; they stop in the reverse order):

- ``status_lines.StatusLines`` (``bot.status_lines``): questions' status lines, edits coalesced.
- ``role_sync.RoleSync`` (``bot.role_sync``): point roles follow members' public points.
- ``notifier.Notifier`` (``bot.notifier``): the DM outbox drained into DMs
  (``direct_messages``: the sending; ``outcomes``: what became of each DM).
- ``retention.Retention`` (``bot.retention``): the retention sweeps (finished notifications, old
  ``/ask`` drafts, servers that removed the bot), periodically.
- ``vote_writer.VoteWriter`` (``bot.vote_writer``): reaction votes applied in gateway order.
- ``reconciler.Reconciler`` (``bot.reconciler``): on a shard's new session, what was missed while
  away (``reconcile_run``: a run's budget and shared state; ``reconcile_steps``: its steps).
"""
