"""``python -m consult``."""

from consult.cli.main import run

run()
