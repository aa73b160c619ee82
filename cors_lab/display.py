"""Renderings of exchanges: ``curl -v``-style text, and HTML for Jupyter.

Both are deterministic (no times, addresses or paths), because notebooks
store them and nbval compares them on every run.
"""

from __future__ import annotations

import html

from cors_lab.messages import Exchange, Request, Response

__all__ = ["exchange_html", "exchange_text", "is_cors_header", "request_text", "response_text"]

#: How many characters of a body the renderings show.
BODY_PREVIEW_CHARS = 300


def is_cors_header(name: str) -> bool:
    """True for the headers of the CORS protocol (``Origin``, ``Access-Control-*``)."""
    lowered = name.lower()
    return lowered == "origin" or lowered.startswith("access-control-")


def body_preview(body: bytes, *, limit: int = BODY_PREVIEW_CHARS) -> str:
    """The body as text, cut at ``limit`` characters; binary bodies as a byte count."""
    if not body:
        return ""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"[{len(body)} bytes of binary data]"
    if any(ch < " " and ch not in "\t\r\n" for ch in text):
        return f"[{len(body)} bytes of binary data]"
    if len(text) > limit:
        return text[:limit] + f"... [{len(body)} bytes in all]"
    return text


def request_text(request: Request) -> str:
    lines = [f"> {request.method} {request.target} HTTP/1.1"]
    lines += [f"> {name}: {value}" for name, value in request.headers]
    lines.append(">")
    preview = body_preview(request.body)
    if preview:
        lines.append(preview)
    return "\n".join(lines)


def response_text(response: Response) -> str:
    lines = [f"< HTTP/1.1 {response.status} {response.reason}".rstrip()]
    lines += [f"< {name}: {value}" for name, value in response.headers]
    lines.append("<")
    preview = body_preview(response.body)
    if preview:
        lines.append(preview)
    return "\n".join(lines)


def exchange_text(exchange: Exchange) -> str:
    """The exchange as wire text: request lines prefixed ``>``, response lines ``<``, as ``curl -v`` prints them."""
    parts = [request_text(exchange.request), "", response_text(exchange.response)]
    if exchange.error is not None:
        parts += ["", f"! the app raised {exchange.error.summary}", "! (full traceback: exchange.error.traceback)"]
    return "\n".join(parts)


_STYLE_BOX = "font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; line-height: 1.45;"
_STYLE_PRE = "margin: 0 0 6px 0; padding: 6px 8px; white-space: pre-wrap; word-break: break-all;"
_STYLE_REQUEST = _STYLE_PRE + " background: #f3f6fb; border-left: 3px solid #5b7db1;"
_STYLE_RESPONSE = _STYLE_PRE + " background: #f5f8f2; border-left: 3px solid #6a9955;"
_STYLE_MARK = "background: #ffe08a; font-weight: bold; padding: 0 2px;"
_STYLE_ERROR = "color: #b00020; margin: 2px 0 6px 0;"


def _header_lines_html(prefix: str, headers: tuple[tuple[str, str], ...]) -> list[str]:
    lines = []
    for name, value in headers:
        line = html.escape(f"{prefix} {name}: {value}")
        if is_cors_header(name):
            line = f'<mark style="{_STYLE_MARK}">{line}</mark>'
        lines.append(line)
    return lines


def _message_html(first_line: str, prefix: str, headers: tuple[tuple[str, str], ...], body: bytes, style: str) -> str:
    lines = [html.escape(first_line), *_header_lines_html(prefix, headers), html.escape(prefix)]
    preview = body_preview(body)
    if preview:
        lines.append(html.escape(preview))
    return f'<pre style="{style}">' + "\n".join(lines) + "</pre>"


def exchange_html(exchange: Exchange) -> str:
    """The exchange as HTML: the request and the response in two blocks, CORS headers highlighted."""
    request, response = exchange.request, exchange.response
    parts = [
        f'<div class="cors-lab-exchange" style="{_STYLE_BOX}">',
        _message_html(f"> {request.method} {request.target} HTTP/1.1", ">", request.headers, request.body, _STYLE_REQUEST),
        _message_html(
            f"< HTTP/1.1 {response.status} {response.reason}".rstrip(), "<", response.headers, response.body, _STYLE_RESPONSE
        ),
    ]
    if exchange.error is not None:
        parts.append(
            f'<div style="{_STYLE_ERROR}">the app raised <code>{html.escape(exchange.error.summary)}</code> '
            "(full traceback: <code>exchange.error.traceback</code>)</div>"
        )
    parts.append("</div>")
    return "".join(parts)
