"""The whole R-361 questionnaire in a real browser, with the keyboard only, in English and French.

Playwright drives Debian's Chromium (``/usr/bin/chromium``, installed by
``.ci/run``; this test never downloads a browser) against a real uvicorn
server on loopback. Every move is a key press: Tab and Shift+Tab, Space,
Enter, the arrow keys and typing; the page is only read, never clicked.
Along the way each page is checked against the parts of WCAG 2.1 AA that a
browser can measure (docs/web.md, "Accessibility"): the ``lang`` attribute, a
visible focus indicator on everything Tab reaches, text contrast, a label or
legend on every control, and error messages tied to their fields. A
screenshot of each page is kept in ``test-artifacts/screenshots/<lang>/``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_web_helpers import make_project, running, stored

from consult.project import DATABASE_ENV, Project
from consult.questionnaire.load import load_questionnaire
from consult.questionnaire.model import OTHER_CODE, Item, ItemType, Questionnaire
from consult.sampling.codes import display
from consult.store import fielding, open_store
from consult.web.app import create_app
from consult.web.form import Page, pages

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip("Debian's Chromium is not at /usr/bin/chromium (apt-get install chromium); "
                "this test never downloads a browser", allow_module_level=True)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
SECRET = b"browser-test-secret"
MAX_KEYS = 120  # Tab presses to reach any control; more means the focus order is broken
MIN_FOCUS_OUTLINE = 2.0  # CSS pixels
PHONE_WIDTH = 320  # WCAG 1.4.10 Reflow: no sideways scrolling at 320 CSS pixels

# Read-only probes of the page (what has focus, colours, labels). None of them acts on it.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {id: el.id, name: el.getAttribute('name') || '', tag: el.tagName.toLowerCase(),
          type: el.getAttribute('type') || '', checked: !!el.checked,
          outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
          outlineColor: style.outlineColor, around: window.consultBackground(el.parentElement),
          onScreen: box.right > 0 && box.bottom > 0 && box.left < innerWidth};
}"""
BACKGROUND = """() => {
  window.consultBackground = (el) => {
    for (; el; el = el.parentElement) {
      const colour = getComputedStyle(el).backgroundColor;
      if (!/^rgba\\(.*, 0\\)$/.test(colour) && colour !== 'transparent') return colour;
    }
    return 'rgb(255, 255, 255)';
  };
}"""
TEXTS = """() => [...document.querySelectorAll('body *')].filter(el =>
    [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
    && el.getClientRects().length && !el.closest('progress')).map(el => {
  const style = getComputedStyle(el);
  return {text: el.textContent.trim().slice(0, 40), colour: style.color,
          background: window.consultBackground(el), size: parseFloat(style.fontSize),
          weight: parseInt(style.fontWeight, 10)};
})"""
CONTROLS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), textarea, select, button')].map(el => {
  const grouped = (el.type === 'radio' || el.type === 'checkbox')
    && document.getElementsByName(el.name).length > 1;
  const fieldset = el.closest('fieldset');
  return {id: el.id || el.name || el.textContent.trim(),
          named: (el.labels && el.labels.length > 0 && el.labels[0].textContent.trim() !== '')
                 || el.hasAttribute('aria-label')
                 || (el.tagName === 'BUTTON' && el.textContent.trim() !== ''),
          inLegendedFieldset: !grouped || !!(fieldset && fieldset.querySelector(':scope > legend'))};
})"""
ERRORS = """() => [...document.querySelectorAll('.error[id]')].map(error => ({
  id: error.id, text: error.textContent.trim(),
  describes: [...document.querySelectorAll('[aria-describedby]')]
    .filter(el => el.getAttribute('aria-describedby').split(/\\s+/).includes(error.id))
    .map(el => el.id)}))"""


@dataclass(frozen=True)
class Answer:
    """What the respondent does for one item, and what the store must then hold."""

    item: Item
    typed: str = ""  # text typed into a text, number or country field
    choices: tuple[str, ...] = ()  # codes picked, in choice order
    other: str = ""  # the "please specify" text, when "other" is picked
    stored: tuple[str, ...] = ()  # the values the store must hold (one row each)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> Project:
    monkeypatch.setenv(DATABASE_ENV, sqlite_url)
    return make_project(tmp_path / "consultation")[0]


@pytest.fixture
def base(project: Project) -> Iterator[str]:
    with running(create_app(project, secure_cookies=False, secret=SECRET)) as url:
        yield url


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A page of a fresh Chromium profile (its own user-data folder, so no cookies carry over)."""
    with sync_api.sync_playwright() as playwright, \
            tempfile.TemporaryDirectory(prefix="consult-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1024, "height": 768})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            context.close()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_r361_completed_with_the_keyboard_only(language: str, project: Project, base: str,
                                               browser_page: Any) -> None:
    with open_store(project.database_url) as store:
        code = fielding.invitees(store, waves=[0])[0].code
    questionnaire = load_questionnaire(project.questionnaire_path)
    plan = answer_plan(questionnaire, language)
    form = KeyboardForm(browser_page, ARTIFACTS / language, language)

    form.open(base + "/")  # typing the address: no click
    form.skip_link_leads_to_the_questions()
    if language == "fr":
        form.reach('a[hreflang="fr"]')
        form.submit_with("Enter")
    form.check_page("code")
    form.reach("#code")
    form.type(display(code).lower())  # as printed on the invitation, in lower case
    form.submit_with("Enter")  # Enter in a text field submits its form

    assert browser_page.url.endswith("/consent")
    form.check_page("consent")
    form.reach("button[type=submit]")
    form.submit_with("Enter")  # without agreeing first
    form.check_page("consent-error", errors=1)
    form.reach("#consent")
    form.press("Space")
    form.reach("button[type=submit]")
    form.submit_with("Enter")

    for number, page in enumerate(pages(questionnaire), 1):
        assert browser_page.url.endswith(f"/page/{number}")
        form.check_page(page.id)
        if number == 1:
            fill_profile_with_a_mistake(form, page, plan)
        else:
            for item in page.items:
                if item.id in plan:
                    form.answer(plan[item.id])
        form.reach("button[type=submit]")
        form.submit_with("Enter")

    assert browser_page.url.endswith("/thanks")
    form.check_page("thanks")
    links = browser_page.locator("input.link")
    assert links.count() == 3
    for n in range(links.count()):
        form.reach(f"ul.links li:nth-child({n + 1}) input")  # each copyable link is reachable
    form.reach("#name")
    form.type("Ada Colleague" if language == "en" else "Édith Collègue")
    form.reach("#email")
    form.type("colleague@example.org")
    form.submit_with("Enter")
    form.check_page("nominated")
    assert browser_page.get_by_role("status").count() == 1

    row, answers = stored(project, code)
    assert (row.source, row.finished, row.language, row.progress) == ("web", True, language, 100)
    assert {item_id: [(a.value, a.other_text) for a in rows] for item_id, rows in answers.items()} \
        == expected_rows(plan)
    with open_store(project.database_url) as store:
        assert [n.email for n in fielding.nominations(store)] == ["colleague@example.org"]


# --------------------------------------------------------------------------- the plan


def answer_plan(questionnaire: Questionnaire, language: str) -> dict[str, Answer]:
    """Every item's answer. English takes "yes" on every filter and "other" where offered;
    French answers "no" to the training filter and leaves its follow-up blank."""
    filters = {i.relevant.item for i in questionnaire.items() if i.relevant and i.relevant.item}
    english = language == "en"
    plan: dict[str, Answer] = {}
    for n, item in enumerate(questionnaire.items()):
        codes = item.choice_codes() if item.type.has_choices else []
        regular = [c for c in codes if c != OTHER_CODE and not _exclusive(item, c)]
        if item.relevant is not None and item.relevant.item == "train_received" and not english:
            continue  # hidden by its filter: nothing to answer
        if item.type is ItemType.COUNTRY:
            typed = "Canada" if english else "Belgique"
            plan[item.id] = Answer(item, typed=typed, stored=("CAN" if english else "BEL",))
        elif item.type is ItemType.NUMBER:
            typed = "12" if english else "7"
            plan[item.id] = Answer(item, typed=typed, stored=(typed,))
        elif item.type is ItemType.FREE_TEXT:
            typed = (f"Practice {n}: shared case conferences." if english
                     else f"Pratique {n} : conférences de cas communes, « à l’essai ».")
            plan[item.id] = Answer(item, typed=typed, stored=(typed,))
        elif item.type is ItemType.MULTIPLE_CHOICE:
            picked = [regular[1], OTHER_CODE] if english and item.other else regular[:2]
            other = "Peer mentors" if OTHER_CODE in picked else ""
            plan[item.id] = Answer(item, choices=tuple(picked), other=other, stored=tuple(picked))
        else:
            if item.id in filters:
                pick = "no" if item.id == "train_received" and not english else "yes"
            elif english and item.other:
                pick = OTHER_CODE
            else:
                pick = regular[(n + (0 if english else 1)) % len(regular)]
            other = "Rotating units" if pick == OTHER_CODE else ""
            plan[item.id] = Answer(item, choices=(pick,), other=other, stored=(pick,))
    return plan


def expected_rows(plan: dict[str, Answer]) -> dict[str, list[tuple[str, str | None]]]:
    """``item → [(value, other text)]`` as the store must hold them."""
    return {item_id: [(value, answer.other if value == OTHER_CODE else None)
                      for value in answer.stored]
            for item_id, answer in plan.items()}


def fill_profile_with_a_mistake(form: KeyboardForm, page: Page, plan: dict[str, Answer]) -> None:
    """Answer the profile leaving one question out and getting the number wrong, submit, then
    follow the error summary's links back to each field and put it right."""
    skipped, number = page.items[2], page.items[3]
    for item in page.items:
        if item is skipped:
            continue
        form.answer(plan[item.id] if item is not number else Answer(item, typed="99"))
    form.reach("button[type=submit]")
    form.submit_with("Enter")
    form.check_page("profile-errors", errors=2)  # focus is on the error summary now
    for item, answer in ((skipped, plan[skipped.id]), (number, plan[number.id])):
        form.reach(f'.error-summary a[href="#{_first_input(item)}"]')
        form.press("Enter")  # follows the link: focus lands on the field itself
        assert form.focused()["name"] == item.id
        form.answer(answer, focused=True)


# --------------------------------------------------------------------------- the keyboard


class KeyboardForm:
    """Fills the form by key presses alone and checks each page on the way."""

    def __init__(self, page: Any, shots: Path, language: str) -> None:
        self.page = page
        self.shots = shots
        self.language = language
        self.taken = 0
        shutil.rmtree(shots, ignore_errors=True)
        shots.mkdir(parents=True)

    def open(self, url: str) -> None:
        """Go to ``url`` as if typed into the address bar."""
        self.page.goto(url)
        self.page.evaluate(BACKGROUND)

    def press(self, key: str) -> dict[str, Any]:
        """Press ``key``; return what has focus then (checking its focus is visible)."""
        self.page.keyboard.press(key)
        focused = self.focused()
        if key in ("Tab", "Shift+Tab"):
            assert focused is not None, "focus left the page"
            visible_focus(focused)
        return focused

    def type(self, text: str) -> None:
        """Type ``text`` into the focused field, replacing what it held."""
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)

    def focused(self) -> Any:
        """What has focus now (``None`` for the page itself)."""
        return self.page.evaluate(FOCUSED)

    def reach(self, selector: str, group: str | None = None) -> dict[str, Any]:
        """Tab (or Shift+Tab, when it lies behind) to ``selector``, or into radio ``group``."""
        target = self.page.locator(selector if group is None else f'[name="{group}"]').first
        if target.evaluate("(t) => t === document.activeElement"):
            return dict(self.focused())
        backwards = target.evaluate(
            "(t) => { const a = document.activeElement; return !!a && a !== document.body"
            " && !!(t.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING); }")
        for _ in range(MAX_KEYS):
            focused = self.press("Shift+Tab" if backwards else "Tab")
            there = (focused["name"] == group and focused["type"] == "radio") if group else \
                target.evaluate("(t) => t === document.activeElement")
            if there:
                return focused
        raise AssertionError(f"{MAX_KEYS} key presses did not reach {selector or group}")

    def answer(self, answer: Answer, focused: bool = False) -> None:
        """Give ``answer`` (``focused``: the item's first control has focus already)."""
        item = answer.item
        if answer.typed:
            if not focused:
                self.reach(f"#{item.id}")
            self.type(answer.typed)
        elif item.type is ItemType.MULTIPLE_CHOICE:
            for code in answer.choices:
                self.reach(f"#{item.id}-{item.choice_codes().index(code)}")
                self.press("Space")
        else:
            now = self.focused() if focused else self.reach("", group=item.id)
            self.pick_radio(item, answer.choices[0], now)
        if answer.other:
            self.reach(f"#{item.id}__other")
            self.type(answer.other)

    def pick_radio(self, item: Item, code: str, focused: dict[str, Any]) -> None:
        """Check the radio of ``code``: arrow keys move and check; Space checks the first."""
        codes = item.choice_codes()
        at, wanted = int(focused["id"].rsplit("-", 1)[1]), codes.index(code)
        if at == wanted and not focused["checked"]:
            self.press("Space")
        for _ in range(abs(wanted - at)):
            self.press("ArrowDown" if wanted > at else "ArrowUp")
        now = self.focused()
        assert (now["id"], now["checked"]) == (f"{item.id}-{wanted}", True)

    def submit_with(self, key: str) -> None:
        """Press ``key`` on the focused control and wait for the page it leads to."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.page.evaluate(BACKGROUND)

    def skip_link_leads_to_the_questions(self) -> None:
        """The first Tab shows the skip link; Enter on it puts focus on the main content."""
        focused = self.press("Tab")
        assert focused["tag"] == "a" and focused["onScreen"], focused
        self.press("Enter")
        assert self.focused()["id"] == "main"

    def check_page(self, name: str, errors: int = 0) -> None:
        """Check the page as a whole, then keep its screenshot as ``NN-name.png``."""
        page = self.page
        assert page.evaluate("document.documentElement.lang") == self.language
        problems = [f"{t['text']!r}: {ratio:.2f}" for t in page.evaluate(TEXTS)
                    if (ratio := contrast(t["colour"], t["background"])) < _needed(t)]
        assert problems == [], f"text below WCAG AA contrast on {name}: {problems}"
        controls = page.evaluate(CONTROLS)
        assert [c["id"] for c in controls if not c["named"]] == [], f"unlabelled on {name}"
        assert [c["id"] for c in controls if not c["inLegendedFieldset"]] == []
        tied = page.evaluate(ERRORS)
        assert len(tied) == errors, tied
        if errors:
            self.check_errors(tied)
        self.screenshot(name)
        if page.locator(".error-summary").count():
            self.reflows_on_a_phone(name)

    def screenshot(self, name: str) -> None:
        """Keep the page as it looks now as ``NN-name.png``."""
        self.taken += 1
        self.page.screenshot(path=self.shots / f"{self.taken:02d}-{name}.png", full_page=True)

    def check_errors(self, tied: list[dict[str, Any]]) -> None:
        """Each error is in the title, tied to its field, and (on question pages) summarised."""
        page = self.page
        assert page.title().startswith("Error: " if self.language == "en" else "Erreur : ")
        for error in tied:
            assert error["describes"], f"error {error['id']} is tied to no field"
            for field_id in error["describes"]:
                field = page.locator(f"#{field_id}")
                sync_api.expect(field).to_have_accessible_description(
                    re.compile(re.escape(error["text"])))
            field_name = error["id"].removesuffix("-error")
            invalid = page.locator(f'[name="{field_name}"][aria-invalid="true"]')
            assert invalid.count() >= 1, f"{field_name} is not marked invalid"
        summary = page.locator(".error-summary")
        if summary.count():
            assert summary.get_attribute("role") == "alert"
            assert page.evaluate("document.activeElement.classList.contains('error-summary')")
            targets = summary.locator("a").evaluate_all("(links) => links.map(a => a.hash.slice(1))")
            assert len(targets) == len(tied)
            for target in targets:
                assert page.locator(f"#{target}").count() == 1, target

    def reflows_on_a_phone(self, name: str) -> None:
        """At 320 CSS pixels wide nothing needs scrolling sideways (WCAG 1.4.10)."""
        page = self.page
        size = page.viewport_size
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 640})
        try:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE_WIDTH, f"the page is {width} px wide at {PHONE_WIDTH} px"
            self.screenshot(f"{name}-phone")
        finally:
            page.set_viewport_size(size)


# --------------------------------------------------------------------------- colours


def visible_focus(focused: dict[str, Any]) -> None:
    """The focused control shows an outline wide enough and distinct from what surrounds it
    (WCAG 2.4.7, with 1.4.11's 3:1 for the indicator)."""
    assert focused["outlineStyle"] not in ("none", "hidden"), f"no focus outline: {focused}"
    assert focused["outlineWidth"] >= MIN_FOCUS_OUTLINE, focused
    ratio = contrast(focused["outlineColor"], focused["around"])
    assert ratio >= 3, f"focus outline contrast {ratio:.2f} < 3: {focused}"


def contrast(foreground: str, background: str) -> float:
    """The WCAG contrast ratio of two CSS ``rgb()``/``rgba()`` colours (alpha ignored)."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: str) -> float:
    found = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, [\d.]+)?\)", colour)
    assert found, f"unexpected colour {colour!r}"
    channels = [int(v) / 255 for v in found.groups()]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _needed(text: dict[str, Any]) -> float:
    """4.5:1, or 3:1 for large text: 24 px, or 18.66 px bold (WCAG 1.4.3)."""
    large = text["size"] >= 24 or (text["size"] >= 18.66 and text["weight"] >= 700)
    return 3.0 if large else 4.5


def _exclusive(item: Item, code: str) -> bool:
    choice = item.choice(code)
    return bool(choice and (choice.exclusive or choice.dont_know))


def _first_input(item: Item) -> str:
    return f"{item.id}-0" if item.type.has_choices else item.id
