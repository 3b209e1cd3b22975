"""Rules on transit."""
