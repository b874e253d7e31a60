"""full-text search: find the threads holding every word of a query in the index itself

A multi-word ``/search`` matches a question whose thread (title, details, live answers) holds
every word, possibly in different posts. Mapping every post that holds any of the words to its
question (about 10,000 posts for two everyday words in a community of 100,000 questions) cost
20-40 times the plain engine query. This migration lets each engine find the threads holding
every word from its index alone; only those threads' posts are then ranked.

SQLite: ``posts_search`` is rebuilt so that its rowid carries the thread: ``(thread << 32) |
posts.id``, where ``thread`` is the question's id (its own for a question). ``rowid >> 32`` of a
word's matches is then read from the index's doclist alone (no content, no ``posts`` row), and
one statement intersects the words' threads. Every ``posts.id`` (and so every question id) must
stay below ``2**32``: the insert trigger refuses a post past it. The triggers keep the key when a
post moves to another thread (``question_id`` changes).

PostgreSQL: ``thread_search (question_id, lexemes)``, one row per thread, holding the distinct
lexemes (no positions: ``strip``) of its question and answers, with a GIN index, and an index
``thread_search_posts`` on ``posts`` by thread (``COALESCE(question_id, id)``). A new post adds
its lexemes (``strip(lexemes || search_vector)``: bounded by the thread's distinct words); an
edit, a blanked text or a deleted post rebuilds its thread's row from the posts left, so no word
of an erased text stays behind (the row goes with its question). Words of deleted or hidden
posts still count here (a superset): the ranking step checks every post it counts.

Both are left out of the ORM models (``bot.db.migrate.UNMANAGED_OBJECTS``).
"""

from bot.db.migrations.parts import sql_migration

revision = "0014"
down_revision = "0013"

# As in 0002 (a migration never imports another).
_TOKENIZER = "porter unicode61 remove_diacritics 0"
# posts.id and the thread's question id share one 64-bit rowid: 32 bits each.
_ID_LIMIT = 2**32


def _sqlite_index(key_of: str) -> tuple[str, ...]:
    """The FTS5 table, its triggers and its refill, with ``key_of`` giving a post's rowid from
    ``{p}`` (``NEW``, ``OLD`` or ``posts``)."""
    new, old, row = (key_of.format(p=p) for p in ("NEW", "OLD", "posts"))
    guard = (
        f"SELECT RAISE(ABORT, 'posts.id must stay below 2**32 (search index keys)')"
        f" WHERE NEW.id >= {_ID_LIMIT};"
        if "<<" in key_of
        else ""
    )
    moved = ", question_id" if "question_id" in key_of else ""
    return (
        "DROP TRIGGER IF EXISTS posts_search_insert",
        "DROP TRIGGER IF EXISTS posts_search_update",
        "DROP TRIGGER IF EXISTS posts_search_delete",
        "DROP TABLE IF EXISTS posts_search",
        f"""
        CREATE VIRTUAL TABLE posts_search USING fts5(
            title, body, tokenize = '{_TOKENIZER}', prefix = '2 3'
        )
        """,
        f"""
        CREATE TRIGGER posts_search_insert AFTER INSERT ON posts
        WHEN NEW.kind IN ('question', 'answer')
        BEGIN
            {guard}
            INSERT INTO posts_search (rowid, title, body)
            VALUES ({new}, COALESCE(NEW.title, ''), NEW.body);
        END
        """,
        f"""
        CREATE TRIGGER posts_search_update AFTER UPDATE OF id{moved}, kind, title, body ON posts
        BEGIN
            DELETE FROM posts_search WHERE rowid = {old};
            INSERT INTO posts_search (rowid, title, body)
            SELECT {new}, COALESCE(NEW.title, ''), NEW.body
            WHERE NEW.kind IN ('question', 'answer');
        END
        """,
        f"""
        CREATE TRIGGER posts_search_delete AFTER DELETE ON posts
        BEGIN
            DELETE FROM posts_search WHERE rowid = {old};
        END
        """,
        # In key order, so the index is written as appends.
        f"""
        INSERT INTO posts_search (rowid, title, body)
        SELECT {row}, COALESCE(title, ''), body FROM posts
        WHERE kind IN ('question', 'answer') ORDER BY 1
        """,
        "INSERT INTO posts_search (posts_search) VALUES ('optimize')",
    )


SQLITE_UPGRADE = _sqlite_index("((COALESCE({p}.question_id, {p}.id) << 32) | {p}.id)")
SQLITE_DOWNGRADE = _sqlite_index("{p}.id")

#: Fills ``thread_search`` from ``posts`` (also run by the benchmark after a bulk load).
POSTGRES_FILL = """
    INSERT INTO thread_search (question_id, lexemes)
    SELECT COALESCE(p.question_id, p.id), array_to_tsvector(array_agg(DISTINCT u.lexeme))
    FROM posts AS p, unnest(p.search_vector) AS u
    WHERE p.search_vector IS NOT NULL
    GROUP BY COALESCE(p.question_id, p.id)
"""

POSTGRES_UPGRADE = (
    """
    CREATE TABLE thread_search (
        question_id BIGINT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
        lexemes tsvector NOT NULL
    )
    """,
    POSTGRES_FILL,
    "CREATE INDEX thread_search_gin ON thread_search USING gin (lexemes)",
    # A thread's posts (its question and answers) in one index scan.
    "CREATE INDEX thread_search_posts ON posts ((COALESCE(question_id, id)))",
    # A thread's row rebuilt from its posts (none left: no row).
    """
    CREATE FUNCTION thread_search_rebuild(thread BIGINT) RETURNS void LANGUAGE sql AS $$
        DELETE FROM thread_search WHERE question_id = thread;
        INSERT INTO thread_search (question_id, lexemes)
        SELECT thread, array_to_tsvector(array_agg(DISTINCT u.lexeme))
        FROM posts AS p, unnest(p.search_vector) AS u
        WHERE COALESCE(p.question_id, p.id) = thread AND p.search_vector IS NOT NULL
        HAVING bool_or(p.id = thread);
    $$
    """,
    """
    CREATE FUNCTION thread_search_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO thread_search AS t (question_id, lexemes)
        VALUES (COALESCE(NEW.question_id, NEW.id), strip(NEW.search_vector))
        ON CONFLICT (question_id) DO UPDATE SET lexemes = t.lexemes || EXCLUDED.lexemes
        WHERE t.lexemes <> t.lexemes || EXCLUDED.lexemes;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION thread_search_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM thread_search_rebuild(COALESCE(OLD.question_id, OLD.id));
        IF COALESCE(NEW.question_id, NEW.id) <> COALESCE(OLD.question_id, OLD.id) THEN
            PERFORM thread_search_rebuild(COALESCE(NEW.question_id, NEW.id));
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION thread_search_forget() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM thread_search_rebuild(thread)
        FROM (SELECT DISTINCT COALESCE(question_id, id) AS thread FROM gone) AS threads;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER thread_search_insert AFTER INSERT ON posts FOR EACH ROW
    WHEN (NEW.search_vector IS NOT NULL) EXECUTE FUNCTION thread_search_add()
    """,
    """
    CREATE TRIGGER thread_search_update AFTER UPDATE OF id, question_id, kind, title, body
    ON posts FOR EACH ROW
    WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector
          OR OLD.question_id IS DISTINCT FROM NEW.question_id OR OLD.id <> NEW.id)
    EXECUTE FUNCTION thread_search_change()
    """,
    """
    CREATE TRIGGER thread_search_delete AFTER DELETE ON posts
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION thread_search_forget()
    """,
)

POSTGRES_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS thread_search_delete ON posts",
    "DROP TRIGGER IF EXISTS thread_search_update ON posts",
    "DROP TRIGGER IF EXISTS thread_search_insert ON posts",
    "DROP FUNCTION IF EXISTS thread_search_forget()",
    "DROP FUNCTION IF EXISTS thread_search_change()",
    "DROP FUNCTION IF EXISTS thread_search_add()",
    "DROP FUNCTION IF EXISTS thread_search_rebuild(BIGINT)",
    "DROP INDEX IF EXISTS thread_search_posts",
    "DROP TABLE IF EXISTS thread_search",
)

upgrade, downgrade = sql_migration(
    sqlite=(SQLITE_UPGRADE, SQLITE_DOWNGRADE),
    postgresql=(POSTGRES_UPGRADE, POSTGRES_DOWNGRADE),
)
