"""Rules on providers."""
