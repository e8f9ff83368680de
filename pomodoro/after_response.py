"""Work done after a response has been sent, in the same process.

For what must not change how long the request takes: the password reset sends its
email here, so the 202 takes the same time whether or not the account exists. The
server (WSGI or ASGI, and Django's test client) calls the response's close() once the
body is sent; the work runs there, before Django's own clean-up (which closes the
request's database connection). A failure is logged, never raised: the client
already has its answer.
"""

import logging
from collections.abc import Callable

from rest_framework.response import Response

logger = logging.getLogger("pomodoro.after_response")


class ResponseThen(Response):
    """A DRF Response that runs `then()` after it has been sent."""

    def __init__(self, *args, then: Callable[[], object], **kwargs):
        super().__init__(*args, **kwargs)
        self._then = then

    def close(self):
        then, self._then = self._then, None
        if then is not None:
            try:
                then()
            except Exception:
                logger.exception("work after the response failed")
        super().close()
