"""Rules on the agreement between the program and its recorded state."""
