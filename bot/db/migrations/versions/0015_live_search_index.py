"""full-text search: SQLite's index holds live posts only; the search look-up index goes

Until now ``posts_search`` held every question and answer, so ``/search`` looked up each
matching post in ``posts`` (migration 0013's narrow covering index) to keep only live,
undeleted, unhidden posts: for a word in 1,500 posts, 1,500 look-ups, more than the full-text
query itself. Since 0014 the index's key already says which thread a post belongs to and
whether it is the question (``post id = thread``), so once the index holds only the posts that
may count, a search needs no ``posts`` row but the few questions it shows.

SQLite: the triggers index a question or answer only while it is live (``state = 'live'``), not
deleted and not hidden by a moderator; a change of any of those adds or removes its entry, as
an edit of its text replaces it. The entries of the other posts are deleted. The insert trigger
still refuses a post id of ``2**32`` or more for every question and answer, indexed or not
(a pending post may become live).

Both engines: ``ix_posts_search_lookup`` (0013) is dropped: nothing reads it any more (PostgreSQL
never did), and every post written paid an entry in it.
"""

from bot.db.migrations.parts import sql_migration

revision = "0015"
down_revision = "0014"

# The index's key, as 0014 made it: the thread in the high 32 bits, the post in the low ones.
_KEY = "((COALESCE({p}.question_id, {p}.id) << 32) | {p}.id)"
_POST = "{p}.kind IN ('question', 'answer')"
_LIVE = (
    f"{_POST} AND {{p}}.state = 'live' AND {{p}}.deleted_at IS NULL AND {{p}}.removed_at IS NULL"
)
_ID_LIMIT = 2**32


def _triggers(indexed: str, watched: str) -> tuple[str, ...]:
    """The insert and update triggers indexing the posts for which ``indexed`` holds (``{p}``
    stands for the row), the update one firing on a change of ``watched``."""
    new_key, old_key = (_KEY.format(p=p) for p in ("NEW", "OLD"))
    kept = indexed.format(p="NEW")
    return (
        "DROP TRIGGER IF EXISTS posts_search_insert",
        "DROP TRIGGER IF EXISTS posts_search_update",
        f"""
        CREATE TRIGGER posts_search_insert AFTER INSERT ON posts
        WHEN NEW.kind IN ('question', 'answer')
        BEGIN
            SELECT RAISE(ABORT, 'posts.id must stay below 2**32 (search index keys)')
            WHERE NEW.id >= {_ID_LIMIT};
            INSERT INTO posts_search (rowid, title, body)
            SELECT {new_key}, COALESCE(NEW.title, ''), NEW.body WHERE {kept};
        END
        """,
        f"""
        CREATE TRIGGER posts_search_update AFTER UPDATE OF {watched} ON posts
        BEGIN
            DELETE FROM posts_search WHERE rowid = {old_key};
            INSERT INTO posts_search (rowid, title, body)
            SELECT {new_key}, COALESCE(NEW.title, ''), NEW.body WHERE {kept};
        END
        """,
    )


_TEXT_COLUMNS = "id, question_id, kind, title, body"
_NOT_LIVE = f"{_POST.format(p='posts')} AND NOT ({_LIVE.format(p='posts')})"
_OPTIMIZE = "INSERT INTO posts_search (posts_search) VALUES ('optimize')"
_LOOKUP_INDEX = (
    "CREATE INDEX ix_posts_search_lookup ON posts"
    " (id, question_id, guild_id, kind, state, deleted_at, removed_at)"
)
_DROP_LOOKUP_INDEX = "DROP INDEX IF EXISTS ix_posts_search_lookup"

SQLITE_UPGRADE = (
    *_triggers(_LIVE, f"{_TEXT_COLUMNS}, state, deleted_at, removed_at"),
    f"DELETE FROM posts_search WHERE rowid IN (SELECT {_KEY.format(p='posts')} FROM posts"
    f" WHERE {_NOT_LIVE})",
    _OPTIMIZE,
    _DROP_LOOKUP_INDEX,
)
SQLITE_DOWNGRADE = (
    _LOOKUP_INDEX,
    *_triggers(_POST, _TEXT_COLUMNS),
    f"INSERT INTO posts_search (rowid, title, body) SELECT {_KEY.format(p='posts')},"
    f" COALESCE(title, ''), body FROM posts WHERE {_NOT_LIVE} ORDER BY 1",
    _OPTIMIZE,
)

upgrade, downgrade = sql_migration(
    sqlite=(SQLITE_UPGRADE, SQLITE_DOWNGRADE),
    postgresql=((_DROP_LOOKUP_INDEX,), (_LOOKUP_INDEX,)),
)
