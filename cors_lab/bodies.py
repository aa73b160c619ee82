"""Request bodies as ``fetch()`` takes them, and the ``Content-Type`` each one brings.

https://fetch.spec.whatwg.org/#concept-bodyinit-extract

=================  ===================================================  ==========
body               Content-Type set by the browser                      preflight?
=================  ===================================================  ==========
``str``            ``text/plain;charset=UTF-8``                         no
URLSearchParams    ``application/x-www-form-urlencoded;charset=UTF-8``  no
FormData           ``multipart/form-data; boundary=...``                no
Blob               the Blob's ``type`` (``application/json``: yes)      by type
``bytes``          none (an ArrayBuffer)                                no
ReadableStream     none, but the request is always preflighted          yes
=================  ===================================================  ==========

A ``Content-Type`` the script sets itself wins over the body's.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union
from urllib.parse import urlencode

__all__ = ["Blob", "Body", "FormData", "ReadableStream", "URLSearchParams", "extract_body"]

#: Chromium's multipart boundaries start like this; the rest is random in a browser, fixed here.
FORM_BOUNDARY = "----WebKitFormBoundaryCorsLab0000000"


@dataclass(frozen=True)
class URLSearchParams:
    """``new URLSearchParams({...})``: an urlencoded form body."""

    fields: Mapping[str, str]


@dataclass(frozen=True)
class FormData:
    """``new FormData()`` with text fields: a multipart body."""

    fields: Mapping[str, str]


@dataclass(frozen=True)
class Blob:
    """``new Blob([data], {type})``: raw bytes with a script-chosen type."""

    data: bytes | str
    type: str = ""


@dataclass(frozen=True)
class ReadableStream:
    """``new ReadableStream(...)`` as a body (sent with ``duplex: "half"``): always preflighted."""

    data: bytes | str = b""


Body = Union[str, bytes, URLSearchParams, FormData, Blob, ReadableStream, None]


@dataclass(frozen=True)
class ExtractedBody:
    data: bytes
    content_type: str | None
    stream: bool = False
    kind: str = "none"


def _bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def extract_body(body: Body, *, json: Any = None, has_json: bool = False, stream_uploads: bool = True) -> ExtractedBody:
    """The bytes and default Content-Type of a body (https://fetch.spec.whatwg.org/#concept-bodyinit-extract).

    ``stream_uploads=False``: an engine without streaming uploads, where a
    ``ReadableStream`` is not a body type and becomes its string form, a text/plain body.
    """
    if isinstance(body, ReadableStream) and not stream_uploads:
        body = "[object ReadableStream]"
    if has_json:
        if body is not None:
            raise TypeError("pass either body= or json=, not both")
        return ExtractedBody(jsonlib.dumps(json, separators=(",", ":")).encode("utf-8"), "application/json", kind="json")
    if body is None:
        return ExtractedBody(b"", None)
    if isinstance(body, str):
        return ExtractedBody(body.encode("utf-8"), "text/plain;charset=UTF-8", kind="string")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return ExtractedBody(bytes(body), None, kind="bytes")
    if isinstance(body, URLSearchParams):
        return ExtractedBody(urlencode(dict(body.fields)).encode("utf-8"), "application/x-www-form-urlencoded;charset=UTF-8", kind="URLSearchParams")
    if isinstance(body, FormData):
        parts = []
        for name, value in body.fields.items():
            parts.append(f'--{FORM_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n')
        data = ("".join(parts) + f"--{FORM_BOUNDARY}--\r\n").encode("utf-8")
        return ExtractedBody(data, f"multipart/form-data; boundary={FORM_BOUNDARY}", kind="FormData")
    if isinstance(body, Blob):
        return ExtractedBody(_bytes(body.data), body.type or None, kind="Blob")
    if isinstance(body, ReadableStream):
        return ExtractedBody(_bytes(body.data), None, stream=True, kind="ReadableStream")
    raise TypeError(
        "body must be a str, bytes, cors_lab.URLSearchParams, cors_lab.FormData, cors_lab.Blob or "
        f"cors_lab.ReadableStream (or use json=...), not {type(body).__name__} {body!r}"
    )
