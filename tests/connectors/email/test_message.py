"""The e-mail as it leaves the hub: RFC 5322, built once, with the hub's Message-ID."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

from hypothesis import given
from hypothesis import strategies as st

from integrations.email.message import build, hub_headers, rfc822_id, sender_of, with_attachments

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


PROPOSAL = {
    "url": "https://files.alquimista.example/p/4711.pdf?sig=a&b=<c>",
    "filename": "proposta <4711>.pdf",
    "content_type": "application/pdf",
    "size_bytes": 245_800,
}


def test_attachments_are_listed_as_links_at_the_end_of_both_bodies() -> None:
    text, html = with_attachments(
        "Segue a proposta.\n",
        "<html><body><p>Segue a proposta.</p></body></html>",
        [PROPOSAL, {"url": "https://files.alquimista.example/t.txt", "filename": "t.txt"}],
        "Anexos",
    )
    assert text == (
        "Segue a proposta.\n\nAnexos:\n"
        "- proposta <4711>.pdf (application/pdf, 245.8 KB): "
        "https://files.alquimista.example/p/4711.pdf?sig=a&b=<c>\n"
        "- t.txt: https://files.alquimista.example/t.txt\n"
    )
    assert html is not None
    # Inside the body, escaped: a file name or URL never becomes markup.
    assert html.endswith("</ul></body></html>")
    assert (
        '<a href="https://files.alquimista.example/p/4711.pdf?sig=a&amp;b=&lt;c&gt;">'
        "proposta &lt;4711&gt;.pdf</a> (application/pdf, 245.8 KB)</li>"
    ) in html
    assert "<strong>Anexos</strong>" in html


def test_no_attachments_leaves_the_bodies_as_they_came() -> None:
    assert with_attachments("a", None, [], "Anexos") == ("a", None)
    assert with_attachments(None, "<p>b</p>", [], "Anexos") == (None, "<p>b</p>")


@given(st.text(max_size=80), st.text(min_size=1, max_size=80))
def test_any_file_name_stays_text_in_the_html(filename: str, heading: str) -> None:
    _, html = with_attachments(
        None, "<p>x</p>", [{"url": "https://f.example/a", "filename": filename}], heading
    )
    assert html is not None
    assert html.count("<a ") == 1
    assert html.count("<li>") == 1
