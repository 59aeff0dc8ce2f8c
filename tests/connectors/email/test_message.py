"""The e-mail as it leaves the hub: RFC 5322, built once, with the hub's Message-ID."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

from hypothesis import given
from hypothesis import strategies as st

from integrations.email.message import build, hub_headers, rfc822_id, sender_of

DATE = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _message(**changes: object) -> bytes:
    fields: dict[str, object] = {
        "rfc822_message_id": rfc822_id("msg_01", "vendas@alquimista.example"),
        "sender": sender_of("vendas@alquimista.example", "Alquimista Vendas"),
        "to": ["compras@paodourado.example"],
        "cc": ["gerente@paodourado.example"],
        "reply_to": "ana@alquimista.example",
        "subject": "Pedido de Natal — Padaria Pão Dourado",
        "text": "Bom dia! Segue a proposta.",
        "html": "<p>Bom dia! Segue a <b>proposta</b>.</p>",
        "headers": hub_headers("msg_01", {"template_id": "proposal", "template_version": "3"}),
        "date": DATE,
        **changes,
    }
    return build(**fields)  # type: ignore[arg-type]


def test_the_message_carries_the_hubs_id_and_both_bodies() -> None:
    parsed = message_from_bytes(_message(), policy=default)
    assert parsed["Message-ID"] == "<msg_01@alquimista.example>"
    assert parsed["X-Hub-Message-Id"] == "msg_01"
    assert parsed["X-Hub-Template-Id"] == "proposal"
    assert parsed["X-Hub-Template-Version"] == "3"
    assert parsed["Subject"] == "Pedido de Natal — Padaria Pão Dourado"
    assert parsed["From"] == "Alquimista Vendas <vendas@alquimista.example>"
    assert parsed["Cc"] == "gerente@paodourado.example"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().strip() == "Bom dia! Segue a proposta."
    assert "<b>proposta</b>" in html.get_content()


def test_lines_end_in_crlf_as_smtp_wants() -> None:
    raw = _message(html=None)
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


@given(st.text(min_size=1, max_size=200), st.text(max_size=60))
def test_any_subject_and_name_stay_one_header_and_keep_their_text(subject: str, name: str) -> None:
    raw = _message(subject=subject, sender=sender_of("vendas@alquimista.example", name))
    parsed = message_from_bytes(raw, policy=default)
    assert "".join(str(parsed["Subject"]).split()) == "".join(subject.split())
    assert parsed["Message-ID"] == "<msg_01@alquimista.example>"  # nothing injected
