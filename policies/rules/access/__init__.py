"""Rules on who may use what protects the data (key policies and grants)."""
