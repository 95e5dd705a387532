"""An application factory for running several uvicorn workers behind a reverse proxy.

``uvicorn --factory consult.web.asgi:app --workers 4`` builds one application
per worker from the project in ``CONSULT_PROJECT`` (default: the current
folder or the nearest one above it holding ``consult.toml``).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from consult.project import load_project
from consult.web.app import create_app

PROJECT_ENV = "CONSULT_PROJECT"
INSECURE_ENV = "CONSULT_WEB_INSECURE_COOKIES"


def app() -> FastAPI:
    """The web form of the project named by ``CONSULT_PROJECT``.

    Cookies are ``Secure`` unless ``CONSULT_WEB_INSECURE_COOKIES=1`` (plain
    HTTP on 127.0.0.1 only).
    """
    folder = os.environ.get(PROJECT_ENV)
    project = load_project(explicit=Path(folder)) if folder else load_project()
    return create_app(project, secure_cookies=os.environ.get(INSECURE_ENV) != "1")
