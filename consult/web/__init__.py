"""The electronic questionnaire (``consult serve``): a FastAPI application over the store.

Import :func:`consult.web.app.create_app`; this package pulls in FastAPI, so
the command line imports it only inside ``consult serve``.
"""
