"""alertd.messages."""
