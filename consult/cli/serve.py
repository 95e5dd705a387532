"""``consult serve``: the electronic questionnaire on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from consult.cli.common import err, out, project_of


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    secure_cookies: Annotated[bool, typer.Option(
        "--secure-cookies/--insecure-cookies",
        help="Send the session cookie over HTTPS only. Use --insecure-cookies only for plain "
        "HTTP on 127.0.0.1.")] = True,
) -> None:
    """Serve the web questionnaire until Ctrl-C, printing one working personal link.

    For production run several workers behind a reverse proxy on PostgreSQL
    (docs/web.md).

    Example: consult serve --port 8000
    """
    import uvicorn

    from consult.store import open_store
    from consult.web.app import create_app, usable_code

    project = project_of(ctx)
    app = create_app(project, secure_cookies=secure_cookies)
    with open_store(project.database_url) as store:
        code = usable_code(store)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}" if ":" not in shown else f"http://[{shown}]:{port}"
    if code is None:
        err.print(f"No code can open the form yet: add seeds (consult seeds add) and open "
                  f"wave 0 (consult wave open 0). Code entry: {base}/", markup=False)
    else:
        out.print(f"Personal link: {base}/r/{code}", markup=False)
        err.print("This is an invitee's own code: answering the whole form with it uses it up. "
                  "To rehearse, add a test seed (consult seeds add --name Test --email "
                  "test@example.org) and use its link from consult links.", markup=False)
    if not secure_cookies and host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"Warning: --insecure-cookies on {host}: session cookies cross the network "
                  "in clear text; use it on 127.0.0.1 only, and HTTPS (a reverse proxy) "
                  "anywhere else (docs/web.md).", markup=False)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False,
                proxy_headers=True)
