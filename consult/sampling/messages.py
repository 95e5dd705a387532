"""E-mail texts: Jinja2 templates chosen by the contact's language, and the messages built from them.

Templates are ``email/<kind>.<language>.txt.j2`` (kinds: ``invitation``,
``reminder``, ``referral``). The project's ``templates/`` folder is searched
first, then the templates shipped with consult, which stay reachable as
``default:email/...`` (so an override can ``{% extends %}`` the default). A
contact whose language has no template gets the English one. A template's
first line is ``Subject: ...``; the body follows a blank line. Every variable
a template can use is listed in docs/fielding.md; a misspelt one is an error,
never a blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consult.errors import ConsultError
from consult.resources import shipped_dir
from consult.sampling.codes import display
from consult.sampling.contacts import mailable_address
from consult.sampling.referrals import personal_link
from consult.sampling.setup import FieldingSetup
from consult.store.fielding import Invitee, MessageDraft, StoredMessage

if TYPE_CHECKING:
    import jinja2

FALLBACK_LANGUAGE = "en"


class UnmailableAddress(ConsultError):
    """A contact's address that consult's mailer cannot send to (accents before the ``@``).

    Addresses are checked where they enter; a database filled by an older
    version may still hold one. The message names the contact's id, never the
    address.
    """

    def __init__(self, contact_id: int, kind: str) -> None:
        super().__init__(f"{kind} to contact {contact_id}: their address has accents "
                         "before the @, which consult's mailer cannot deliver")
        self.contact_id = contact_id
        self.kind = kind


def template_environment(templates_dir: Path | None) -> jinja2.Environment:
    """A Jinja2 environment: the project's templates first, then the shipped ones.

    Undefined variables raise (``StrictUndefined``); text is not HTML-escaped.
    """
    import jinja2

    shipped = jinja2.FileSystemLoader(shipped_dir("templates"))
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None and templates_dir.is_dir():
        loaders.append(jinja2.FileSystemLoader(templates_dir))
    loaders += [jinja2.PrefixLoader({"default": shipped}, delimiter=":"), shipped]
    return jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=False,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def draft_invitation(env: jinja2.Environment, setup: FieldingSetup, invitee: Invitee, *,
                     nominated: bool = False) -> MessageDraft:
    """The invitation to ``invitee``, with their personal link.

    Raises
    ------
    UnmailableAddress
        When the invitee's address cannot be sent to (so for every draft here).
    """
    return _draft(env, setup, invitee, "invitation", 0, {"nominated": nominated})


def draft_reminder(env: jinja2.Environment, setup: FieldingSetup, invitee: Invitee, *,
                   sequence: int, invited_at: datetime) -> MessageDraft:
    """The ``sequence``-th reminder to ``invitee`` (1 for the first)."""
    return _draft(env, setup, invitee, "reminder", sequence,
                  {"reminder_number": sequence, "invited_on": invited_at.date().isoformat()})


def draft_referral(env: jinja2.Environment, setup: FieldingSetup, respondent: Invitee,
                   child_codes: Sequence[str], wave: int) -> MessageDraft:
    """The letter giving a respondent the child codes to pass on (codes of ``wave``)."""
    links = [{"code": display(code), "link": personal_link(setup.link_template, code)}
             for code in child_codes]
    return _draft(env, setup, respondent, "referral", 0,
                  {"links": links, "count": len(links)}, wave=wave)


def build_email(message: StoredMessage, sender: str, when: datetime) -> EmailMessage:
    """The e-mail of a logged message, dated ``when``."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(when)
    email["Message-ID"] = message.message_id
    email.set_content(message.body)
    return email


def render(env: jinja2.Environment, kind: str, language: str,
           context: dict[str, Any]) -> tuple[str, str, str]:
    """Render ``kind`` in ``language`` (English when it has no template).

    Returns ``(language used, subject, body)``.
    """
    import jinja2

    used = language
    try:
        template = env.get_template(f"email/{kind}.{language}.txt.j2")
    except jinja2.TemplateNotFound:
        used = FALLBACK_LANGUAGE
        try:
            template = env.get_template(f"email/{kind}.{FALLBACK_LANGUAGE}.txt.j2")
        except jinja2.TemplateNotFound:
            raise ConsultError(f"no e-mail template email/{kind}.{language}.txt.j2 or "
                               f"email/{kind}.{FALLBACK_LANGUAGE}.txt.j2 in the project's "
                               "templates/ or the shipped templates") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConsultError(f"{exc.filename or exc.name}, line {exc.lineno}: {exc.message}") from None
    try:
        text = template.render(context)
    except jinja2.UndefinedError as exc:
        raise ConsultError(f"{template.filename}: {exc.message}; the variables a {kind} "
                           "template can use are listed in docs/fielding.md") from None
    subject, body = _split_subject(text, template.filename or template.name or kind)
    return used, subject, body


# --------------------------------------------------------------------------- helpers


def _draft(env: jinja2.Environment, setup: FieldingSetup, invitee: Invitee, kind: str,
           sequence: int, extra: dict[str, Any], wave: int | None = None) -> MessageDraft:
    if invitee.contact_id is None or not invitee.email:
        raise ConsultError(f"code {display(invitee.code)} has no holder with an e-mail address")
    address = mailable_address(invitee.email)
    if address is None:
        raise UnmailableAddress(invitee.contact_id, kind)
    context = {
        "name": invitee.name or "",
        "organisation": invitee.organisation or "",
        "title": setup.title,
        "sender": setup.sender,
        "code": display(invitee.code),
        "link": personal_link(setup.link_template, invitee.code),
        "wave": invitee.wave,
        **extra,
    }
    language, subject, body = render(env, kind, invitee.language or setup.default_language,
                                     {**context, "language": invitee.language or ""})
    domain = setup.sender.rpartition("@")[2] or "consult.invalid"
    return MessageDraft(
        contact_id=invitee.contact_id, code=invitee.code, kind=kind, sequence=sequence,
        wave=invitee.wave if wave is None else wave, language=language,
        recipient=formataddr((invitee.name or "", address)), subject=subject, body=body,
        message_id=make_msgid(idstring=f"{kind}.{sequence}", domain=domain))


def _split_subject(text: str, name: str) -> tuple[str, str]:
    head, _, rest = text.partition("\n")
    if not head.startswith("Subject:") or not head[len("Subject:"):].strip():
        raise ConsultError(f"{name}: the first line must be 'Subject: ...' (the e-mail's "
                           "subject), then a blank line, then the text")
    return head[len("Subject:"):].strip(), rest.lstrip("\n")
