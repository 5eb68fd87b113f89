"""alertd.calendar."""
