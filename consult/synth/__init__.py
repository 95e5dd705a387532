"""Synthetic consultations: realistic, reproducible fake responses for demos, tests and benchmarks.

Nothing generated here is about a real person: contacts use example.org.
"""

from consult.synth.generate import (
    Association,
    SynthConsultation,
    SynthResponse,
    generate,
)
from consult.synth.write import write_canonical, write_truth

__all__ = [
    "Association",
    "SynthConsultation",
    "SynthResponse",
    "generate",
    "write_canonical",
    "write_truth",
]
