"""Search adapters: Chinese tokenising and the full-text index over tickets and messages."""
