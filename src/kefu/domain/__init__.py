"""Pure domain rules and models. Imports no framework, database or web code."""
