"""The e-mail the worker sends the person who asked it for something: an export is ready, a
large round's publication is out or was refused. One short message, in the site's language
(Chinese), to the requester's address; a mail server down fails nothing (the page they follow
says the same)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


def tell(user: User, compose: Callable[[], tuple[str, str]]) -> bool:
    """Send ``user`` the subject and body ``compose`` returns (called in the site's language);
    whether it left. Nothing is sent to a user without an address."""
    if not user.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = compose()
    try:
        EmailMessage(subject=subject, body=body, to=[user.email]).send()
    except OSError:
        logger.warning("could not send %r to user %s", subject, user.pk)
        return False
    return True


def link(path: str) -> str:
    """``path`` on the site as the e-mail's reader reaches it."""
    return settings.SITE_BASE_URL + path
