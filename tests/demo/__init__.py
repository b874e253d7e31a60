"""``make demo``: the real qa-bot against the loopback fake Discord, as a readable transcript.

``python -m tests.demo`` starts ``tests.fakediscord`` and the production ``QABot`` (every
extension of ``bot.client.EXTENSIONS``) on a temporary SQLite file, plays a scripted
conversation (setup, a question, two answers, votes, an accepted answer, DMs, profiles) and
prints what each member would see in Discord. ``scenario`` holds the script, ``render`` turns
the fake's messages into text.
"""
