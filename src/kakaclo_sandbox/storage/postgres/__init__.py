"""The storage interface on PostgreSQL (async psycopg and a pool): :mod:`.store`'s
:class:`~.store.PostgresStore`, its schema (:mod:`.schema`), its queries (:mod:`.queries`)
and the console's synchronous read (:mod:`.timeline`)."""
