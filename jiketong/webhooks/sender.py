"""Building, signing and POSTing one webhook message (Standard Webhooks, https://www.standardwebhooks.com).

Pure functions with no database writes: services.py decides what to send and records what happened.

- Body: `{"type": event name, "timestamp": when it happened (UTC ISO), "data": {"id", "customer", ...payload}}`,
  the payload scrubbed of anything that looks like personal data (`scrub`).
- Headers: `webhook-id` (the event id, the same on every retry: receivers deduplicate on it),
  `webhook-timestamp` (Unix seconds of this attempt), `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
  `{id}.{timestamp}.{body}` keyed with the endpoint's secret), signed by the `standardwebhooks` package.
"""

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from standardwebhooks import Webhook

from jiketong.core.models import Event
from jiketong.core.validators import mask_email, mask_mobile, mask_personal

USER_AGENT = "Jiketong-Webhooks/1"
MAX_ERROR = 500  # characters of a receiver's answer kept in the delivery log

# --- payloads: ids and changed fields only, never personal data in clear ----------------------------------
# Events carry ids, not personal data (core.events), but a free-text field (a reason, a comment) can hold a
# number someone typed: everything leaving the building goes through this check as well.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")  # 居民身份证号码
_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s-]\d{7,8}(?!\d)")  # 020-12345678
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_KEYS = ("mobile", "phone", "tel")
_SECRET_KEYS = ("id_number", "id_card", "birthday", "birth_date", "birthdate")


def _digits(text: str) -> str:
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits[-11:] if len(digits) > 11 else digits


def _mask_id_number(text: str) -> str:
    return f"{text[:6]}********{text[-4:]}"


def scrub_text(text: str) -> str:
    """Mask ID numbers, mobiles, landlines and e-mail addresses found anywhere in a string."""
    text = _ID_NUMBER.sub(lambda m: _mask_id_number(m.group()), text)
    text = _MOBILE.sub(lambda m: mask_mobile(_digits(m.group())), text)
    text = _LANDLINE.sub(lambda m: mask_mobile(m.group()), text)
    return _EMAIL.sub(lambda m: mask_email(m.group()), text)


def scrub(value: Any, key: str = "") -> Any:
    """The value with personal data masked, recursively: strings by pattern, and whatever sits under a key
    that names a phone number, an ID number or a birthday by the project's one rule (`mask_personal`)."""
    lowered = key.lower()
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item, key) for item in value]
    if isinstance(value, str) and value:
        if any(part in lowered for part in _SECRET_KEYS):
            return mask_personal(value)
        if any(part in lowered for part in _PHONE_KEYS):
            return mask_personal(_digits(value) or value)
        return scrub_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and any(p in lowered for p in _PHONE_KEYS + _SECRET_KEYS):
        return mask_personal(str(value))
    return value


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body_for(event: Event) -> str:
    """The JSON text POSTed for an event (the exact bytes the signature covers)."""
    data = {"id": event.pk, "customer": event.customer_id, **scrub(event.payload or {})}
    data["id"] = event.pk  # a payload field never hides the event id
    return dumps({"type": event.name, "timestamp": _iso(event.occurred_at), "data": data})


def ping_body(endpoint_id: int, moment: datetime) -> str:
    """The body of an admin's "send test": no event behind it, the same shape."""
    return dumps({"type": "webhook.test", "timestamp": _iso(moment), "data": {"endpoint": endpoint_id}})


def dumps(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)


# --- signing ------------------------------------------------------------------------------------------
def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">`."""
    # standardwebhooks replaces the tzinfo with UTC (it does not convert), so give it a UTC datetime.
    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body)


def headers_for(secret: str, msg_id: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


# --- posting ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, not a place to send the signed body to: it counts as a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, secret: str, msg_id: str, body: str, timeout: float | None = None) -> Result:
    """POST a signed body; never raises. A 2xx is success; anything else, or no answer in time, a failure."""
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS if timeout is None else timeout
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers=headers_for(secret, msg_id, body))
    started = time.monotonic()
    status, error = None, ""
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
            if not 200 <= status < 300:
                error = _answer(status, response.read(MAX_ERROR))
    except urllib.error.HTTPError as exc:
        status = exc.code
        error = _answer(exc.code, exc.read(MAX_ERROR) if exc.fp else b"")
    except urllib.error.URLError as exc:
        error = f"{type(exc.reason).__name__}: {exc.reason}"[:MAX_ERROR]
    except TimeoutError:
        error = f"no answer within {timeout} s"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    return Result(status, error, int((time.monotonic() - started) * 1000))


def _answer(status: int, content: bytes) -> str:
    text = content.decode("utf-8", errors="replace").strip()
    return (f"HTTP {status}: {text}" if text else f"HTTP {status}")[:MAX_ERROR]
