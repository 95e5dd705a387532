"""The web form: a FastAPI application rendering server-side pages that work without JavaScript.

A respondent opens ``/r/{code}`` (or enters the code at ``/``), agrees on the
consent page, answers one page per domain (the profile first) and sees a
thank-you page with child referral links and a nomination form. Every page is
saved as it is submitted, so the same code resumes on any device.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consult.errors import ConsultError
from consult.project import Project
from consult.questionnaire.load import load_questionnaire
from consult.questionnaire.model import ItemType, Questionnaire
from consult.report.characters import printable
from consult.resources import shipped_dir
from consult.sampling.codes import ALPHABET, BODY_LENGTH, is_valid, normalise
from consult.sampling.nominations import add_nomination
from consult.sampling.referrals import personal_link
from consult.sampling.setup import FieldingSetup, fielding_setup
from consult.store import fielding, open_store
from consult.store.db import Store
from consult.store.fielding import Invitee
from consult.store.web import (
    PageSave,
    SubmissionClosed,
    WebDraft,
    code_completed,
    save_web_page,
    web_draft,
)
from consult.web.form import (
    OTHER_SUFFIX,
    Answers,
    CountryResolver,
    Page,
    answers_of,
    hidden_items,
    pages,
    read_page,
    records_of,
)
from consult.web.nominees import NOMINEE_LIMITS, nominee_errors
from consult.web.referrals import ChildCodes
from consult.web.security import (
    COOKIE_NAME,
    SECURITY_HEADERS,
    RateLimiter,
    Session,
    Signer,
    load_secret,
)
from consult.web.strings import message, words
from consult.web.views import field_views

MAX_BODY = 512 * 1024
MAX_FIELDS = 500
MAX_VALUE = 100_000
FormData = dict[str, list[str]]
CHILD_CODES_LOCK = "web-referrals.lock"
CLOSED = "closed"  # what _ready answers for a closed wave's code, instead of where to go


@dataclass
class WebForm:
    """Everything the handlers share: the project, its instrument, store and protections."""

    project: Project
    questionnaire: Questionnaire
    pages: list[Page]
    store: Store
    setup: FieldingSetup
    languages: list[str]
    signer: Signer
    limiter: RateLimiter
    secure_cookies: bool
    countries: CountryResolver
    child_codes: ChildCodes

    @property
    def total(self) -> int:
        """How many pages the questionnaire has."""
        return len(self.pages)


def create_app(project: Project, *, secure_cookies: bool = True, code_attempts: int = 10,
               attempt_window: float = 600.0, secret: bytes | None = None) -> FastAPI:
    """The web form of ``project`` as an ASGI application.

    ``secure_cookies=False`` lets the session cookie travel over plain HTTP
    (testing on 127.0.0.1 only). ``code_attempts`` wrong codes per client
    address within ``attempt_window`` seconds lock code entry for that client.
    """
    questionnaire = load_questionnaire(project.questionnaire_path)
    languages = [lang for lang in project.settings.project.languages
                 if lang in questionnaire.languages] or list(questionnaire.languages)
    store = open_store(project.database_url)
    setup = fielding_setup(project)
    signer = Signer(secret or load_secret(project.cache_dir))
    form = WebForm(
        project=project, questionnaire=questionnaire, pages=pages(questionnaire),
        store=store, setup=setup,
        languages=languages, signer=signer,
        limiter=RateLimiter(code_attempts, attempt_window, store=store, signer=signer),
        secure_cookies=secure_cookies,
        countries=CountryResolver(),
        child_codes=ChildCodes(store, setup.child_codes, project.cache_dir / CHILD_CODES_LOCK))
    env = _environment(project.root / "templates")
    app = FastAPI(title="consult web form", docs_url=None, redoc_url=None, openapi_url=None)
    # The consultation's title, as the invitations name it ([project] title); when
    # it is the questionnaire's own (the default), in the respondent's language.
    own_title = project.settings.project.title
    default_title = own_title in {questionnaire.text(questionnaire.title, lang)
                                  for lang in questionnaire.languages}

    def title_of(language: str) -> str:
        return questionnaire.text(questionnaire.title, language) if default_title else own_title

    app.state.form = form

    def render(request: Request, session: Session, template: str, status: int = 200,
               *, set_cookie: bool = True, **context: Any) -> HTMLResponse:
        language = _language(form, session)
        html = env.get_template(f"web/{template}").render(
            t=words(language), lang=language, languages=form.languages,
            language_names={code: message("language_name", code) for code in form.languages},
            title_text=title_of(language),
            csrf=form.signer.csrf_token(session), path=request.url.path, **context)
        response = HTMLResponse(html, status_code=status)
        if set_cookie:
            _set_cookie(form, response, session)
        return response

    def explain(request: Request, session: Session, key: str, status: int) -> HTMLResponse:
        return render(request, session, "message.html", status, heading=key + "_title",
                      text=key + "_text")

    def redirect(session: Session, to: str) -> RedirectResponse:
        response = RedirectResponse(to, status_code=303)
        _set_cookie(form, response, session)
        return response

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        # No traceback, no exception text: only a plain page (the server log has the rest).
        # The respondent's cookie is left alone, so they stay on their code.
        response = render(request, Session(), "message.html", 500, set_cookie=False,
                          heading="error_title", text="error_text")
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        key = {404: "not_found", 413: "too_large", 403: "forbidden"}.get(exc.status_code, "error")
        return explain(request, _session(form, request), key, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        return explain(request, _session(form, request), "not_found", 404)

    @app.get("/web.css")
    def stylesheet() -> Response:
        css = _template_file(project.root / "templates", "web/web.css").read_text("utf-8")
        return Response(css, media_type="text/css")

    @app.get("/")
    def code_entry(request: Request) -> Response:
        session = _session(form, request)
        return render(request, session, "code.html", error="", code="")

    @app.post("/code")
    def code_posted(request: Request, data: Annotated[FormData, Depends(_form_data)]) -> Response:
        session = _session(form, request)
        if not form.signer.csrf_ok(session, _one(data, "csrf")):
            return explain(request, session, "forbidden", 403)
        return enter(request, session, _one(data, "code", 64))

    @app.get("/r/{code}")
    def personal_link_opened(request: Request, code: str) -> Response:
        return enter(request, _session(form, request), code[:64])

    def enter(request: Request, session: Session, typed: str) -> Response:
        client = request.client.host if request.client else "unknown"
        if form.limiter.blocked(client):
            return explain(request, session, "rate", 429)
        code = normalise(typed)
        if not code:  # nothing typed: ask again, and do not count it as a wrong code
            return render(request, session, "code.html", 400,
                          error=message("code_empty", _language(form, session)), code="")
        problem = _code_state(form.store, code).problem
        if problem in ("malformed", "invalid", "unknown"):
            form.limiter.fail(client)
        if problem is not None:
            return explain(request, session, problem,
                           {"malformed": 400, "invalid": 400, "unknown": 404,
                            "completed": 409}.get(problem, 410))
        if session.code != code:
            session = Session(language=session.language)
            session.code = code
        return redirect(session, "/continue")

    @app.get("/continue")
    def resume(request: Request) -> Response:
        session = _session(form, request)
        if session.code is None:
            return redirect(session, "/")
        draft = web_draft(form.store, session.code)
        if draft is not None and draft.finished:
            return redirect(session, "/thanks")
        done = _pages_done(form, draft.progress if draft else None)
        if done == 0 and not session.consent:
            return redirect(session, "/consent")
        return redirect(session, f"/page/{min(done + 1, form.total)}")

    @app.get("/consent")
    def consent(request: Request) -> Response:
        session = _session(form, request)
        if session.code is None:
            return redirect(session, "/")
        return render(request, session, "consent.html", error="")

    @app.post("/consent")
    def consent_given(request: Request,
                      data: Annotated[FormData, Depends(_form_data)]) -> Response:
        session = _session(form, request)
        if not form.signer.csrf_ok(session, _one(data, "csrf")):
            return explain(request, session, "forbidden", 403)
        if session.code is None:
            return redirect(session, "/")
        if _one(data, "consent", 10) != "yes":
            language = _language(form, session)
            return render(request, session, "consent.html", 422,
                          error=message("consent_required", language))
        session.consent = True
        return redirect(session, "/page/1")

    @app.get("/page/{number}")
    def show_page(request: Request, number: int) -> Response:
        session = _session(form, request)
        ready = _ready(form, session, number)
        if ready == CLOSED:
            return explain(request, session, "closed", 410)
        if isinstance(ready, str):
            return redirect(session, ready)
        values, others = ready.values, ready.others
        page = form.pages[number - 1]
        shown = {item.id: _as_list(values.get(item.id)) for item in page.items}
        for item in page.items:
            if item.type is ItemType.COUNTRY and shown[item.id]:
                shown[item.id] = [_country_name(shown[item.id][0])]
        return page_response(request, session, number, values, shown, others, {})

    @app.post("/page/{number}")
    def save_page(request: Request, number: int,
                  data: Annotated[FormData, Depends(_form_data)]) -> Response:
        session = _session(form, request)
        if not form.signer.csrf_ok(session, _one(data, "csrf")):
            return explain(request, session, "forbidden", 403)
        ready = _ready(form, session, number)
        if ready == CLOSED:  # the wave closed while they were answering: say so, keep nothing
            return explain(request, session, "closed_draft", 410)
        if isinstance(ready, str):
            return redirect(session, ready)
        assert session.code is not None
        page = form.pages[number - 1]
        page_ids = {item.id for item in page.items}
        known = {k: v for k, v in ready.values.items() if k not in page_ids}
        language = _language(form, session)
        posted = read_page(page, data, known, language, form.countries)
        if posted.errors:
            shown = {item.id: posted.raw.get(item.id, []) for item in page.items}
            others = {item.id: "".join(posted.raw.get(item.id + OTHER_SUFFIX, []))
                      for item in page.items}
            return page_response(request, session, number, known, shown, others,
                                 posted.errors, status=422)
        merged: Answers = {**known, **posted.values}
        hidden = set(hidden_items(form.questionnaire, merged))
        kept = {k: v for k, v in posted.values.items() if k not in hidden}
        draft, invitee = ready.state.draft, ready.state.invitee
        done = max(_pages_done(form, draft.progress if draft else None), number)
        assert invitee is not None  # _ready checked the code
        country = next((str(kept[i.id]) for i in page.items
                        if i.type is ItemType.COUNTRY and i.id in kept), None)
        try:
            save_web_page(form.store, PageSave(
                code=session.code, wave=invitee.wave, referred_by=invitee.parent_code,
                language=language, answers=records_of(page, kept, posted.others),
                clear_items=page_ids | hidden, progress=round(100 * done / form.total),
                finished=done >= form.total and number == form.total,
                now=_now(), country_iso3=country,
                region=_region(form, country) if country else None))
        except SubmissionClosed:
            return redirect(session, "/thanks")
        return redirect(session, "/thanks" if number == form.total and done >= form.total
                        else f"/page/{number + 1}")

    def page_response(request: Request, session: Session, number: int, known: Answers,
                      shown: dict[str, list[str]], others: dict[str, str],
                      errors: dict[str, str], status: int = 200) -> HTMLResponse:
        language = _language(form, session)
        page = form.pages[number - 1]
        fields = field_views(form.questionnaire, page.items, known, shown, others, errors,
                             language)
        return render(request, session, "page.html", status, number=number, total=form.total,
                      page_title=form.questionnaire.text(page.title, language),
                      intro=form.questionnaire.text(page.intro, language) if page.intro else "",
                      fields=fields, last=number == form.total)

    @app.get("/thanks")
    def thanks(request: Request) -> Response:
        return thanks_page(request, _session(form, request))

    @app.post("/nominate")
    def nominate(request: Request, data: Annotated[FormData, Depends(_form_data)]) -> Response:
        session = _session(form, request)
        if not form.signer.csrf_ok(session, _one(data, "csrf")):
            return explain(request, session, "forbidden", 403)
        if session.code is None or not code_completed(form.store, session.code):
            return redirect(session, "/continue")
        nominee = {name: printable(_one(data, name, MAX_VALUE)) for name in NOMINEE_LIMITS}
        language = _language(form, session)
        errors = nominee_errors(nominee, language, form.setup.languages)
        if errors:
            return thanks_page(request, session, status=422, errors=errors, nominee=nominee)
        try:
            add_nomination(form.store, form.setup, session.code, nominee["name"],
                           nominee["email"], nominee["organisation"], language=language,
                           now=_now())
        except ConsultError as exc:
            return thanks_page(request, session, status=422, error=str(exc), nominee=nominee)
        return thanks_page(request, session, done=True)

    def thanks_page(request: Request, session: Session, *, status: int = 200, done: bool = False,
                    error: str = "", errors: dict[str, str] | None = None,
                    nominee: dict[str, str] | None = None) -> Response:
        if session.code is None:
            return redirect(session, "/")
        draft = web_draft(form.store, session.code)
        if draft is None or not draft.finished:
            return redirect(session, "/continue")
        links = [personal_link(form.setup.link_template, child.code)
                 for child in form.child_codes.of(session.code)]
        return render(request, session, "thanks.html", status, links=links, nomination_error=error,
                      nomination_errors=errors or {}, nominee=nominee or {}, nominated=done,
                      nominee_limits=NOMINEE_LIMITS)

    return app


# --------------------------------------------------------------------------- helpers


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response.

    Plain ASGI rather than ``@app.middleware("http")``, whose request and
    response wrapping costs more per request than the rest of a page view.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, with_headers)


async def _form_data(request: Request) -> FormData:
    """The posted form, parsed with limits on its size, field count and value length."""
    if request.headers.get("content-type", "").split(";")[0].strip() != \
            "application/x-www-form-urlencoded":
        raise HTTPException(415)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise HTTPException(413)
    try:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                       max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(413) from None
    data: FormData = {}
    for name, value in pairs:
        if len(name) > 100 or len(value) > MAX_VALUE:
            raise HTTPException(413)
        data.setdefault(name, []).append(value)
    return data


def _one(data: FormData, name: str, limit: int = 200) -> str:
    return "".join(data.get(name, [])[:1])[:limit]


def _session(form: WebForm, request: Request) -> Session:
    session = form.signer.load(request.cookies.get(COOKIE_NAME)) or Session()
    wanted = request.query_params.get("lang")
    if wanted in form.languages:
        session.language = wanted
    return session


def _language(form: WebForm, session: Session) -> str:
    return session.language if session.language in form.languages else form.languages[0]


def _set_cookie(form: WebForm, response: Response, session: Session) -> None:
    response.set_cookie(COOKIE_NAME, form.signer.dump(session), httponly=True,
                        secure=form.secure_cookies, samesite="lax", path="/")


@dataclass(frozen=True)
class CodeState:
    """What the store holds for a code: its holder, its web draft, and why it cannot be used.

    ``problem`` is ``malformed`` (not the shape of a code), ``invalid`` (a code's shape
    with a wrong check character), ``unknown``, ``completed``, ``closed`` or ``None``.
    """

    problem: str | None
    invitee: Invitee | None = None
    draft: WebDraft | None = None


@dataclass(frozen=True)
class Ready:
    """A page that may be shown now: the code's state and its stored answers."""

    state: CodeState
    values: Answers
    others: dict[str, str]


def _code_state(store: Store, code: str) -> CodeState:
    """Read once per request what the handlers need to know about ``code``."""
    if not is_valid(code):
        well_formed = len(code) == BODY_LENGTH + 1 and all(c in ALPHABET for c in code)
        return CodeState("invalid" if well_formed else "malformed")
    invitee = fielding.find_code(store, code)
    if invitee is None:
        return CodeState("unknown")
    draft = web_draft(store, code)
    if (draft is not None and draft.finished) or code_completed(store, code):
        return CodeState("completed", invitee, draft)
    wave = next((w for w in fielding.waves(store) if w.number == invitee.wave), None)
    if wave is not None and wave.closed_at is not None:
        return CodeState("closed", invitee, draft)
    return CodeState(None, invitee, draft)


def _ready(form: WebForm, session: Session, number: int) -> str | Ready:
    """The code's state and answers when page ``number`` may be shown now; else where to go.

    :data:`CLOSED` when the code's wave has closed (the pages saved before stay stored).
    """
    if session.code is None:
        return "/"
    state = _code_state(form.store, session.code)
    if state.problem == "closed":
        return CLOSED
    if state.problem is not None:
        return "/thanks" if state.problem == "completed" else "/"
    done = _pages_done(form, state.draft.progress if state.draft else None)
    if done == 0 and not session.consent:
        return "/consent"
    if not 1 <= number <= min(done + 1, form.total):
        return "/continue"
    if state.draft is None:
        return Ready(state, {}, {})
    values, others = answers_of(state.draft.answers, form.questionnaire)
    return Ready(state, values, others)


def _pages_done(form: WebForm, progress: int | None) -> int:
    return round((progress or 0) * form.total / 100)


def _region(form: WebForm, iso3: str) -> str | None:
    from consult.regions import region_of

    return region_of(iso3, form.project.settings.regions.scheme, form.project.root)


def _country_name(iso3: str) -> str:
    from consult.regions import country_name

    return country_name(iso3)


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _now() -> datetime:
    return datetime.now(UTC)


def _environment(project_templates: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(project_templates),
                                    jinja2.FileSystemLoader(shipped_dir("templates"))]),
        autoescape=True, undefined=jinja2.StrictUndefined)


def _template_file(project_templates: Path, name: str) -> Path:
    own = project_templates / name
    return own if own.is_file() else shipped_dir("templates") / name


def usable_code(store: Store) -> str | None:
    """A code that can open the form now (not completed, wave not closed), or ``None``."""
    done = fielding.completed_codes(store)
    closed = {w.number for w in fielding.waves(store) if w.closed_at is not None}
    return next((i.code for i in fielding.invitees(store)
                 if i.code not in done and i.wave not in closed), None)
