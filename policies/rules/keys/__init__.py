"""Rules on keys."""
