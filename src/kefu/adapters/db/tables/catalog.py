"""Tables: catalog."""
