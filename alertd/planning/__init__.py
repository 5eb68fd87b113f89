"""alertd.planning."""
