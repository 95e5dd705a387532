"""consult: run an international expert consultation from invitation to report."""

__version__ = "0.1.0"
