"""alertd.storage."""
