"""What every command-line tool of the project shares; a leaf package (imports nothing of the project)."""
