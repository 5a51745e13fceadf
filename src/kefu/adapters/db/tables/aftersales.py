"""Tables: aftersales."""
