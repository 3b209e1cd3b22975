"""Pulumi program entry point (Pulumi.yaml: `main: stacks/`). The program itself is stacks/program.py."""

# The engine runs this file with the interpreter of Pulumi.yaml's virtualenv (.venv), where the project
# is installed: `stacks`, `components` and the rest import from there, whatever the working directory.
from stacks import program

program.main()
