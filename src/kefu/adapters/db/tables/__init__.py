"""Every table of kefu, by area. Importing this package registers them all on ``Base.metadata``."""

from kefu.adapters.db.tables import aftersales, audit, auth, bot, catalog, outbox, service_desk  # noqa: F401
