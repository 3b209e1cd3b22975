"""Rules on region."""
