"""The figures' SVG is made lighter for the PDF printer without changing what it shows.

:func:`consult.report.figures._lighter` cuts matplotlib's 72 pt hatch tiles to
:data:`~consult.report.figures.HATCH_TILE`, lays each hatched shape over its
plain colour and drops empty groups. Both versions are printed by WeasyPrint
(as ``consult report --format pdf`` does), rasterised by pdftoppm, and their
pixels compared.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from consult.report import figures
from consult.report.figures import HATCH_TILE, HATCHES, Chart, Series

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                reason="pdftoppm (poppler-utils) is not installed")


def chart() -> Chart:
    """Stacked bars with every hatching, the figures' heaviest case."""
    names = [f"Series {k}" for k in range(len(HATCHES))]
    return Chart(kind="bars", categories=["North America", "Europe", "Oceania"],
                 series=[Series(name=n, values=[10.0 + k, 12.0 - k, 8.0 + k / 2],
                                printed=[str(10 + k), str(12 - k), str(8 + k / 2)])
                         for k, n in enumerate(names)],
                 axis="respondents")


def matplotlib_svg() -> str:
    """The figure as matplotlib writes it, before :func:`figures._lighter`."""
    with figures._style("t"):
        fig = figures._figure(lambda _: figures._draw(chart()), (6.5, 3.4))
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def pixels(svg_text: str, folder: Path, name: str) -> object:
    """The SVG printed to PDF by WeasyPrint and rasterised at 100 dpi, as a grey array."""
    import numpy as np
    from PIL import Image
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf = folder / f"{name}.pdf"
    page = "<style>@page { size: 468pt 166pt; margin: 0 } body { margin: 0 }</style>"
    HTML(string=f"<html><head>{page}</head><body>{svg_text}</body></html>").write_pdf(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf),
                    str(folder / name)], check=True)
    with Image.open(folder / f"{name}.png") as image:
        return np.asarray(image.convert("L"), dtype=np.int16)


def texture(grey: object, size: int = 6) -> object:
    """Mean grey of each ``size`` x ``size`` block of pixels: what the eye sees of a hatching.

    A hatch line may land a pixel apart where tiles meet; the texture is the same.
    """
    import numpy as np

    a = np.asarray(grey, dtype=np.float64)
    h, w = (a.shape[0] // size) * size, (a.shape[1] // size) * size
    return a[:h, :w].reshape(h // size, size, w // size, size).mean(axis=(1, 3))


def test_lighter_svg_prints_the_same_picture(tmp_path: Path) -> None:
    import numpy as np

    heavy = matplotlib_svg()
    light = figures._lighter(heavy)
    before = texture(pixels(heavy, tmp_path, "heavy"))
    after = texture(pixels(light, tmp_path, "light"))
    assert before.shape == after.shape  # type: ignore[attr-defined]
    change = np.abs(before - after)  # type: ignore[operator]
    assert change.mean() < 1.0 and np.percentile(change, 99) < 15, (
        f"the picture changed: mean {change.mean():.2f}, 99th percentile "
        f"{np.percentile(change, 99):.1f} grey levels")
    # The comparison can see hatching: without it the same picture differs clearly.
    plain = texture(pixels(re.sub(r"fill: url\(#[^)]+\)", "fill: none", light), tmp_path,
                           "plain"))
    hatching = np.abs(after - plain)  # type: ignore[operator]
    assert hatching.mean() > 2 * change.mean() and np.percentile(hatching, 99) > 20


def test_lighter_svg_has_small_tiles_and_fewer_elements() -> None:
    heavy = matplotlib_svg()
    light = figures._lighter(heavy)
    patterns = re.findall(r'<pattern [^>]*width="(\d+)" height="(\d+)"', light)
    assert patterns, "the chart has hatched series"
    assert {(int(w), int(h)) for w, h in patterns} == {(HATCH_TILE, HATCH_TILE)}
    def drawn_in_patterns(text: str) -> int:  # lines and dots the printer draws per fill
        return sum(body.count("M ") for body in re.findall(r"<pattern.*?</pattern>", text, re.S))

    assert drawn_in_patterns(light) * 4 < drawn_in_patterns(heavy)
    assert light.count("<") < heavy.count("<")
    assert "<metadata>" not in light
    # Every hatched shape is drawn over its plain colour first.
    hatched = re.findall(r'style="fill: url\(#', light)
    assert len(re.findall(r'style="fill: #[0-9a-fA-F]{6}"/><path', light)) >= len(hatched)


def test_report_figures_are_lighter() -> None:
    svg_text = str(figures.svg(chart(), "Respondents by region", "Bars of respondents"))
    assert 'width="72" height="72"' not in svg_text
    assert svg_text.count("<title>") == 1 and 'role="img"' in svg_text
