"""How a message leaves the building: e-mail, or a unit's group-chat robot.

Each sender either returns (delivered) or raises :class:`DeliveryError`, which says whether
trying again can help. The pipeline (``reminders.services``) claims, retries and records the
same way whatever the channel. Another channel — SMS through a provincial gateway, say — is a
``Channel`` value, a sender here with the same contract, and a branch in ``services.deliver_*``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage

from evaluations.models import WebhookKind

# Robot error codes that mean "too many messages, try later" rather than "wrong address".
_RATE_LIMITED = {45009, 130101}
# A robot message longer than this is refused (企业微信: 2,048 bytes of text; 钉钉: 20,000).
ROBOT_MAX_BYTES = 2000


class DeliveryError(Exception):
    """The message did not get through; ``permanent`` when sending it again cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def is_permanent(exc: BaseException) -> bool:
    """A refused address (5xx at RCPT) or a refused message (5xx at DATA) will be refused again:
    do not retry. Everything else — 4xx, refused or dropped connections, timeouts, a refused
    sender or login (our configuration, fixable), even our own errors — may pass, so it is
    retried with backoff until the attempts run out."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False


def send_email(message: EmailMessage) -> None:
    try:
        message.send()
    except Exception as exc:  # every failure, ours included, is classified and recorded
        raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=is_permanent(exc)) from exc


def robot_payload(text: str) -> dict[str, object]:
    """The JSON both robots accept for a plain text message."""
    return {"msgtype": "text", "text": {"content": text}}


def post_robot(*, kind: str, url: str, secret: str, text: str) -> None:
    """POST ``text`` to a group robot (企业微信 / 粤政易 share WeCom's API; 钉钉 signs the URL
    when the robot has a secret). The robot answers 200 with ``errcode`` 0 on success."""
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise DeliveryError(f"群机器人地址无效：{url}", permanent=True)
    if kind == WebhookKind.DINGTALK and secret:
        url = _dingtalk_signed(url, secret)
    body = json.dumps(robot_payload(text), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 — scheme checked above
        url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        # Only http(s) URLs get here (checked above); staff configure them in the back-office.
        with urllib.request.urlopen(  # noqa: S310 # nosec B310
            request, timeout=settings.LIWAN_WEBHOOK_TIMEOUT_SECONDS
        ) as response:
            answer = response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        permanent = 400 <= exc.code < 500 and exc.code != 429
        raise DeliveryError(f"HTTP {exc.code}", permanent=permanent) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
    try:
        code = int(json.loads(answer or b"{}").get("errcode", 0))
    except (ValueError, AttributeError):
        code = 0  # not JSON: the robot took it (a plain 200 from a gateway)
    if code:
        raise DeliveryError(f"errcode {code}", permanent=code not in _RATE_LIMITED)


def _dingtalk_signed(url: str, secret: str) -> str:
    timestamp = str(round(time.time() * 1000))
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256
    ).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"
