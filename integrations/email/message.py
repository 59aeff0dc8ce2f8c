"""The e-mail as it leaves: built once, with the standard library, as RFC 5322.

The hub chooses the ``Message-ID`` (``<msg_…@sender domain>``) and returns it, so a
retry, a bounce and a reply all name the same message; ``X-Hub-Message-Id`` and the
template's id and version travel in headers (the providers echo them in their events).
"""

from __future__ import annotations

import html as markup
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any


def one_line(value: str) -> str:
    """A header value on one line: any line break Python knows (``\\x1c``, ``\\u2028``…,
    not only CR and LF) would make the header invalid, or inject another one."""
    return " ".join(value.splitlines())


def rfc822_id(message_id: str, sender_address: str) -> str:
    domain = sender_address.rpartition("@")[2] or "hub.invalid"
    return f"<{message_id}@{domain}>"


def hub_headers(message_id: str, payload: Mapping[str, Any]) -> dict[str, str]:
    headers = {"X-Hub-Message-Id": message_id}
    if payload.get("template_id"):
        headers["X-Hub-Template-Id"] = str(payload["template_id"])
    if payload.get("template_version"):
        headers["X-Hub-Template-Version"] = str(payload["template_version"])
    return headers


def build(
    *,
    rfc822_message_id: str,
    sender: str,
    to: Sequence[str],
    cc: Sequence[str],
    reply_to: str | None,
    subject: str,
    text: str | None,
    html: str | None,
    headers: Mapping[str, str],
    date: datetime,
) -> bytes:
    """The whole message (Bcc never appears in it: only in the envelope)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = one_line(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = rfc822_message_id
    message["MIME-Version"] = "1.0"
    for name, value in headers.items():
        message[name] = one_line(value)
    if text is not None and html is not None:
        message.set_content(text)
        message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(text or "")
    return message.as_bytes()


def _size(size_bytes: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.1f} {unit}"
    return f"{size_bytes} B"


def _about(attachment: Mapping[str, Any]) -> str:
    facts = [attachment.get("content_type"), attachment.get("size_bytes")]
    said = [f if isinstance(f, str) else _size(f) for f in facts if f is not None]
    return f" ({', '.join(said)})" if said else ""


def with_attachments(
    text: str | None,
    html: str | None,
    attachments: Sequence[Mapping[str, Any]],
    heading: str,
) -> tuple[str | None, str | None]:
    """The bodies with the attachments listed as links at their end (the hub carries no
    file content: every provider gets the same message, and no file is ever fetched)."""
    if not attachments:
        return text, html
    if text is not None:
        lines = [f"- {a['filename']}{_about(a)}: {a['url']}" for a in attachments]
        text = "\n".join([text.rstrip("\n"), "", f"{heading}:", *lines, ""])
    if html is not None:
        items = "".join(
            f'<li><a href="{markup.escape(a["url"])}">{markup.escape(a["filename"])}</a>'
            f"{markup.escape(_about(a))}</li>"
            for a in attachments
        )
        block = f"<hr><p><strong>{markup.escape(heading)}</strong></p><ul>{items}</ul>"
        end = html.lower().rfind("</body>")
        html = html[:end] + block + html[end:] if end >= 0 else html + block
    return text, html


def sender_of(address: str, name: str | None) -> str:
    return formataddr((one_line(name), address)) if name else address
