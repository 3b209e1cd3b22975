"""Pulumi program entry point (Pulumi.yaml: `main: stacks/`). The program itself is stacks/program.py."""

import sys
from pathlib import Path

# The engine runs this file with stacks/ as the working directory; the components live beside it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stacks import program

program.main()
