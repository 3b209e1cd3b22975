"""Rules on encryption."""
