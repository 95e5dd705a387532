"""The house rules of docs/architecture.md, enforced by walking the imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "consult"
# The four working parts meet only in the shared base; none imports another.
PARTS = {"sampling", "ingest", "analysis", "report"}
# The base may be imported by everyone and imports none of the parts or the shells.
BASE = {"errors", "resources", "project", "questionnaire", "store", "regions", "results",
        "csvcells"}
SHELLS = {"cli", "web", "synth"}


def imports_of(path: Path) -> set[str]:
    """Top-level consult sub-packages imported by ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "consult" and len(parts) > 1:
                found.add(parts[1])
    return found


def owner(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0].removesuffix(".py")


def test_parts_never_import_each_other() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        me = owner(path)
        if me in PARTS:
            bad = imports_of(path) & (PARTS | SHELLS) - {me}
            offenders += [f"{path.relative_to(PACKAGE)} imports consult.{b}" for b in sorted(bad)]
    assert offenders == []


def test_base_never_imports_parts_or_shells() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if owner(path) in BASE:
            bad = imports_of(path) & (PARTS | SHELLS)
            offenders += [f"{path.relative_to(PACKAGE)} imports consult.{b}" for b in sorted(bad)]
    assert offenders == []


def test_import_walk_sees_imports(tmp_path: Path) -> None:
    # Guard against a walk that finds nothing and so always passes.
    sample = tmp_path / "x.py"
    sample.write_text("import consult.store\nfrom consult.analysis import closed\n"
                      "def f():\n    from consult.report import render\n", encoding="utf-8")
    assert imports_of(sample) == {"store", "analysis", "report"}


def test_cli_import_stays_light() -> None:
    heavy = ["torch", "bertopic", "spacy", "weasyprint", "sentence_transformers", "pandas",
             "pingouin", "sklearn", "matplotlib", "country_converter"]
    code = ("import sys, consult.cli.main; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == ""
