"""ORM models, migrations, sessions, upserts, search and the evidence store."""
