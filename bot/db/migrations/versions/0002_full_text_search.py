"""full-text search over questions and answers

One index entry per question and per answer (comments are not searched); ``bot.forum.search``
groups the matching posts by question at query time, so no entry ever aggregates other rows
and an edit or delete of one post touches only that post's entry.

SQLite: an FTS5 table ``posts_search`` (tokenizer ``porter unicode61``; its own copy of the
text, rowid = ``posts.id``) kept equal to ``posts`` by three triggers. The table stores its
content, so deleting an entry needs only the rowid - no old values to get wrong. Soft deletes,
pending rows and guilds are filtered by joining ``posts`` at query time.

PostgreSQL: a stored generated column ``posts.search_vector`` (``english``; title weight A,
text weight B; NULL for comments) with a GIN index. PostgreSQL recomputes it on every write,
so it cannot drift.

A later migration that recreates ``posts`` on SQLite (Alembic's batch mode copies the table)
drops these triggers with the old table: it must create them again and refill the index the
way ``upgrade`` fills it below (tests/bot/forum/test_search.py checks the triggers at head).
"""

from bot.db.migrations.parts import sql_migration

revision = "0002"
down_revision = "0001"

# Diacritics are kept (as PostgreSQL's ``english`` configuration keeps them) so that both
# engines agree on what matches.
SQLITE_TOKENIZER = "porter unicode61 remove_diacritics 0"

SQLITE_UPGRADE = (
    f"""
    CREATE VIRTUAL TABLE posts_search USING fts5(
        title, body, tokenize = '{SQLITE_TOKENIZER}', prefix = '2 3'
    )
    """,
    """
    CREATE TRIGGER posts_search_insert AFTER INSERT ON posts
    WHEN NEW.kind IN ('question', 'answer')
    BEGIN
        INSERT INTO posts_search (rowid, title, body)
        VALUES (NEW.id, COALESCE(NEW.title, ''), NEW.body);
    END
    """,
    """
    CREATE TRIGGER posts_search_update AFTER UPDATE OF id, kind, title, body ON posts
    BEGIN
        DELETE FROM posts_search WHERE rowid = OLD.id;
        INSERT INTO posts_search (rowid, title, body)
        SELECT NEW.id, COALESCE(NEW.title, ''), NEW.body
        WHERE NEW.kind IN ('question', 'answer');
    END
    """,
    """
    CREATE TRIGGER posts_search_delete AFTER DELETE ON posts
    BEGIN
        DELETE FROM posts_search WHERE rowid = OLD.id;
    END
    """,
    """
    INSERT INTO posts_search (rowid, title, body)
    SELECT id, COALESCE(title, ''), body FROM posts WHERE kind IN ('question', 'answer')
    """,
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS posts_search_delete",
    "DROP TRIGGER IF EXISTS posts_search_update",
    "DROP TRIGGER IF EXISTS posts_search_insert",
    "DROP TABLE IF EXISTS posts_search",
)

POSTGRES_UPGRADE = (
    """
    ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        CASE WHEN kind IN ('question', 'answer') THEN
            setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A')
            || setweight(to_tsvector('english'::regconfig, body), 'B')
        END
    ) STORED
    """,
    "CREATE INDEX posts_search_gin ON posts USING gin (search_vector)",
)

POSTGRES_DOWNGRADE = (
    "DROP INDEX IF EXISTS posts_search_gin",
    "ALTER TABLE posts DROP COLUMN IF EXISTS search_vector",
)

upgrade, downgrade = sql_migration(
    sqlite=(SQLITE_UPGRADE, SQLITE_DOWNGRADE),
    postgresql=(POSTGRES_UPGRADE, POSTGRES_DOWNGRADE),
)
