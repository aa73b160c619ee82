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


# -- Fetch results ----------------------------------------------------------------------------


def _arrow(label: str, width: int, *, right: bool) -> str:
    dashes = "-" * max(width - 7 - len(label), 2)
    return f"|-- {label} {dashes}>|" if right else f"|<- {label} {dashes}-|"


def sequence_lines(result) -> list[str]:
    """A small text sequence diagram: page on the left, servers on the right."""
    width = 60
    left, right = f"page {result.page_origin}", f"server {_origin_of_url(result.url)}"
    lines = [left + " " * max(width - len(left) - len(right), 1) + right]
    for exchange in result.exchanges:
        request, response = exchange.request, exchange.response
        label = f"{request.method} {request.target}"
        if result.preflight is exchange:
            label += " (preflight)"
        lines.append(_arrow(label, width, right=True))
        lines.append(_arrow(f"{response.status} {response.reason}", width, right=False))
    if result.preflight_cached:
        lines.insert(1, "   (preflight skipped: cached)")
    lines.append(verdict_line(result))
    return lines


def _origin_of_url(url: str) -> str:
    from cors_lab.fetch.urls import origin_of

    return origin_of(url)


def verdict_line(result) -> str:
    if result.blocked:
        kind = f" ({result.error_kind})" if result.error_kind else ""
        return f"blocked{kind}: script sees {result.script_error}"
    if result.type == "opaque":
        return "opaque response: script sees status 0, no headers, no body"
    return f"allowed: script reads status {result.status} (type {result.type!r})"


def fetch_result_text(result) -> str:
    """The result as plain text: diagram, console message, preflight reasons, then the raw exchanges."""
    parts = ["\n".join(sequence_lines(result))]
    if result.console_messages:
        parts.append("console:\n" + "\n".join(f"  {line}" for line in result.console_messages))
    if result.preflight_reasons:
        parts.append("preflight because:\n" + "\n".join(f"  - {reason}" for reason in result.preflight_reasons))
    if result.dropped_headers:
        parts.append("dropped headers:\n" + "\n".join(f"  - {d.name}: {d.reason}" for d in result.dropped_headers))
    if not result.blocked and result.readable_headers:
        parts.append("script can read: " + ", ".join(sorted(result.readable_headers)))
    for exchange in result.exchanges:
        parts.append(exchange_text(exchange))
    return "\n\n".join(parts)


_STYLE_VERDICT_OK = "color: #1b5e20; font-weight: bold; margin: 4px 0;"
_STYLE_VERDICT_BAD = "color: #b00020; font-weight: bold; margin: 4px 0;"
_STYLE_CONSOLE = "background: #fdecea; border-left: 3px solid #b00020; padding: 6px 8px; margin: 0 0 6px 0; white-space: pre-wrap;"
_STYLE_DIAGRAM = "margin: 0 0 6px 0; padding: 6px 8px; background: #fafafa; border: 1px solid #e0e0e0;"


def fetch_result_html(result) -> str:
    """The result as HTML: the sequence diagram, the verdict, the console message, the reasons and the exchanges."""
    diagram = "\n".join(sequence_lines(result)[:-1])
    verdict = verdict_line(result)
    parts = [
        f'<div class="cors-lab-fetch" style="{_STYLE_BOX}">',
        f'<pre style="{_STYLE_DIAGRAM}">{html.escape(diagram)}</pre>',
        f'<div style="{_STYLE_VERDICT_BAD if result.blocked else _STYLE_VERDICT_OK}">{html.escape(verdict)}</div>',
    ]
    if result.console_messages:
        text = "\n".join(result.console_messages)
        parts.append(f'<div style="{_STYLE_CONSOLE}">{html.escape(text)}</div>')
    if result.preflight_reasons:
        items = "".join(f"<li>{html.escape(reason)}</li>" for reason in result.preflight_reasons)
        parts.append(f"<div>preflight because:<ul style=\"margin: 2px 0 6px 0;\">{items}</ul></div>")
    if result.dropped_headers:
        items = "".join(f"<li><code>{html.escape(d.name)}</code>: {html.escape(d.reason)}</li>" for d in result.dropped_headers)
        parts.append(f"<div>dropped headers:<ul style=\"margin: 2px 0 6px 0;\">{items}</ul></div>")
    if not result.blocked and result.readable_headers:
        parts.append(f"<div>script can read: <code>{html.escape(', '.join(sorted(result.readable_headers)))}</code></div>")
    for exchange in result.exchanges:
        parts.append(exchange_html(exchange))
    parts.append("</div>")
    return "".join(parts)
