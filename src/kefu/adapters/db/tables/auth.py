"""Tables: auth."""
