"""Tables: outbox."""
