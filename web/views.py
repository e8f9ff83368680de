"""The web app's one page: the shell that loads the ES modules (web/static/web/), served
at `/` and at the paths emails and invite links point to. Everything else it shows comes
from the public API and the socket."""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe


@require_safe
@never_cache
@ensure_csrf_cookie
def app(request, **_path_parameters):
    """The page; its `data-csrf` is the token the app sends with every write (the
    cookie is HttpOnly in production), `data-signed-in` whether the session has a user."""
    return render(request, "web/index.html")
