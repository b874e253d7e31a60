"""Storage: engine and sessions, ORM models, migrations."""

# Every table on ``Base.metadata`` whichever model module is imported first: the imported
# history's tables (``bot.db.imported``) beside ``bot.db.models``.
from bot.db import imported as imported
