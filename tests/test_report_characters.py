"""consult report: characters XML forbids never reach any format, and a failed output is not
left behind looking current (new-user audit 3, finding 1)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from test_report_full import analysed_demo
from typer.testing import CliRunner

from consult.cli.main import app
from consult.report.characters import printable

runner = CliRunner()
# What the audit stored through the web form, and what pasting from Word gives.
NASTY = "Staff\x00 training\x0bfor all\x0cofficers\x1f\ufffe"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic R-361 consultation (seed 2014), analysed once."""
    return analysed_demo(tmp_path_factory.mktemp("characters") / "demo")


@pytest.fixture
def nasty(demo: Path, tmp_path: Path) -> Path:
    """A copy of the demo whose labels, quotes and author text carry control characters."""
    project = Path(shutil.copytree(demo, tmp_path / "demo"))
    path = project / "out" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for item in data["items"]:
        item["label"] = {lang: f"{NASTY} {text}" for lang, text in item["label"].items()}
    for theme in [t for block in data["themes"].values() for t in block["themes"]]:
        for quote in theme["quotes"]:
            quote["text"] = NASTY
    path.write_text(json.dumps(data), encoding="utf-8")
    (project / "text").mkdir(exist_ok=True)
    (project / "text" / "why.md").write_text(f"We asked.\x00 {NASTY}\n", encoding="utf-8")
    return project


def test_printable_drops_what_xml_forbids_and_breaks_lines_at_vertical_tabs() -> None:
    assert printable("a\x00b\x08c\x0bd\x0ce\x1ff\ufffeg\uffffh\ud800i") == "abc\nd\nefghi"
    kept = "tab\tnewline\ncr\r, C1 \x85, é, 😀, \u2028"
    assert printable(kept) is kept


def test_every_format_renders_answers_with_control_characters(nasty: Path) -> None:
    result = runner.invoke(app, ["--project", str(nasty), "report", "-f", "all", "-l", "all"])
    assert result.exit_code == 0, result.output
    folder = nasty / "out" / "report"
    written = sorted(p.name for p in folder.iterdir())
    assert written == sorted(f"{d}.{lang}.{fmt}" for d in ("glance", "full")
                             for lang in ("en", "fr") for fmt in ("html", "md", "pdf", "docx"))
    for name in written:
        if name.endswith((".html", ".md")):
            text = (folder / name).read_text(encoding="utf-8")
            assert not any(c in text for c in "\x00\x0b\x0c\x1f\ufffe"), name
            assert "Staff training\nfor all\nofficers" in text or name.startswith("glance"), name
    assert "We asked. Staff training" in (folder / "glance.en.md").read_text(encoding="utf-8")
    import docx

    for name in ("glance.en.docx", "full.fr.docx"):
        document = docx.Document(str(folder / name))  # python-docx parses every part
        text = "\n".join(p.text for p in document.paragraphs)
        assert "Staff training" in text and "\x00" not in text
    with zipfile.ZipFile(folder / "full.en.docx") as package:
        body = package.read("word/document.xml").decode("utf-8")
    assert "Staff training" in body and "\x00" not in body and "\x0b" not in body
    assert (folder / "full.en.pdf").read_bytes().startswith(b"%PDF")


def test_a_failed_format_is_named_and_its_older_file_removed(nasty: Path) -> None:
    folder = nasty / "out" / "report"
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / "glance.en.md"
    stale.write_text("last week's report\n", encoding="utf-8")
    own = nasty / "templates" / "report"
    own.mkdir(parents=True)
    (own / "glance.md.j2").write_text("# {{ project.title }}\n{{ typo }}\n", encoding="utf-8")
    result = runner.invoke(app, ["--project", str(nasty), "report", "-f", "all", "-d", "glance"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: glance.en.md not written to {folder}: {own / 'glance.md.j2'}, line 2: 'typo' is "
        "undefined (every name a template uses must be in the context; see "
        "docs/report-context.md); the older glance.en.md was removed so that it cannot pass for "
        "current; the other 3 outputs were written\n")
    assert sorted(p.name for p in folder.iterdir()) == [
        "glance.en.docx", "glance.en.html", "glance.en.pdf"]
