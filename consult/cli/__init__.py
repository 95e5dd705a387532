"""The command line: Typer apps, one module per command group, thin over the library."""
