"""Run the CLI: ``python -m agentark --help``."""
import sys

from agentark.cli import main

sys.exit(main())
