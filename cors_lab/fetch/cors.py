"""The CORS protocol's checks, as the Fetch Standard defines them.

- :func:`cors_check`: may this response be shared with the requesting origin?
- :func:`preflight_verdict`: does a preflight response allow the actual request?
- :func:`exposed_header_names` / :func:`cors_filtered_headers`: what script can read.

Each returns plain data. When a check fails, the result names the failed
step with Chromium's ``CorsError`` name (``"MissingAllowOriginHeader"``,
``"PreflightInvalidStatus"``, ...), the vocabulary the lab uses for every
engine. Engines that order the checks differently or detect "multiple
values" in their own way say so through :class:`AccessRules`; the spec's
order is the default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cors_lab.fetch.headers import (
    FAILURE,
    extract_header_list_values,
    is_cors_non_wildcard_request_header_name,
    is_cors_safelisted_method,
    is_cors_safelisted_response_header_name,
    is_forbidden_response_header_name,
)
from cors_lab.fetch.urls import InvalidURL, parse_url

__all__ = [
    "AccessRules",
    "CorsFailure",
    "CredentialsMode",
    "PreflightVerdict",
    "base_kind",
    "check_access",
    "cors_check",
    "cors_filtered_headers",
    "exposed_header_names",
    "is_ok_status",
    "is_preflight_kind",
    "preflight_verdict",
]

Headers = tuple[tuple[str, str], ...]
CredentialsMode = Literal["omit", "same-origin", "include"]


def _get(headers: Headers, name: str) -> str | None:
    # https://fetch.spec.whatwg.org/#concept-header-list-get (values already trimmed by HTTP parsing)
    wanted = name.lower()
    values = [value.strip(" \t") for key, value in headers if key.lower() == wanted]
    return ", ".join(values) if values else None


def _lines(headers: Headers, name: str) -> int:
    wanted = name.lower()
    return sum(1 for key, _ in headers if key.lower() == wanted)


def is_ok_status(status: int) -> bool:
    """https://fetch.spec.whatwg.org/#ok-status: 200 to 299."""
    return 200 <= status <= 299


# Kinds that only a preflight can fail with; every other ``Preflight...`` kind is a CORS check that
# failed on the preflight's response.
_PREFLIGHT_ONLY_KINDS = frozenset({"PreflightInvalidStatus", "PreflightDisallowedRedirect"})
_PREFLIGHT_RESPONSE_KINDS = frozenset({
    "InvalidAllowMethodsPreflightResponse",
    "InvalidAllowHeadersPreflightResponse",
    "MethodDisallowedByPreflightResponse",
    "HeaderDisallowedByPreflightResponse",
})


def base_kind(kind: str) -> str:
    """The check that failed, whichever response it failed on: the ``Preflight`` prefix of a CORS
    check is dropped; the kinds only a preflight can have keep their name.

    >>> base_kind("PreflightMissingAllowOriginHeader"), base_kind("PreflightInvalidStatus")
    ('MissingAllowOriginHeader', 'PreflightInvalidStatus')
    """
    return kind if kind in _PREFLIGHT_ONLY_KINDS else kind.removeprefix("Preflight")


def is_preflight_kind(kind: str) -> bool:
    """True for the kinds found on a preflight's response (Chromium's ``Preflight...`` kinds and the method/header checks)."""
    return kind.startswith("Preflight") or kind in _PREFLIGHT_RESPONSE_KINDS


@dataclass(frozen=True)
class CorsFailure:
    """A failed CORS step.

    Fields:
        kind: Chromium's ``CorsError`` name without the ``k``
            (``"AllowOriginMismatch"``, ``"PreflightInvalidStatus"``, ...).
        hint: the value Chromium reports with it (the ACAO value, the method,
            the header name), or None.
        detail: extra facts an engine's wording needs (``status``, ``lines``).
    """

    kind: str
    hint: str | None = None
    detail: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def preflight(self) -> bool:
        """True when the preflight response failed (Chromium's ``Preflight...`` kinds and the method/header checks)."""
        return is_preflight_kind(self.kind)


@dataclass(frozen=True)
class AccessRules:
    """How an engine orders and words the CORS check (the spec's behaviour is the default).

    Fields:
        multiple_origins: how repeated ``Access-Control-Allow-Origin`` values
            are told apart from a mismatch: ``"space-or-comma"`` (Chromium: a
            space or comma in the combined value), ``"lines"`` (Firefox: more
            than one header line), ``"comma"`` (WebKit), or ``"none"`` (spec:
            it is just a mismatch).
        invalid_origin_value: report a value that is neither ``null`` nor a URL
            as ``InvalidAllowOriginValue`` (Chromium) instead of a mismatch.
        preflight_status_first: check the preflight's status before its
            CORS headers (WebKit) instead of after (spec, Chromium, Firefox).
        sorted_header_check: check the unsafe request-header names in sorted
            lowercase order, the order of ``Access-Control-Request-Headers``
            (Firefox), instead of the order script set them (Chromium): the
            first name that fails is the one reported.
        method_before_allow_headers: check the method against
            ``Access-Control-Allow-Methods`` before parsing
            ``Access-Control-Allow-Headers`` (Firefox), instead of parsing both
            first (spec, Chromium).
        header_order: given the unsafe request-header names as script set
            them (original case, request order), the order the engine checks
            them in and the spelling it reports them with (WebKit: header
            names it knows first, in their canonical case). None: request
            order, or sorted with ``sorted_header_check``. Whichever name
            fails is kept in the failure's ``detail["name"]``.
    """

    multiple_origins: Literal["space-or-comma", "lines", "comma", "none"] = "none"
    invalid_origin_value: bool = False
    preflight_status_first: bool = False
    sorted_header_check: bool = False
    method_before_allow_headers: bool = False
    header_order: Callable[[Sequence[str]], list[str]] | None = None


SPEC_RULES = AccessRules()


def _valid_url(text: str) -> bool:
    try:
        parse_url(text)
    except InvalidURL:
        return False
    return True


def check_access(
    headers: Headers, *, origin: str, credentials_mode: CredentialsMode, rules: AccessRules = SPEC_RULES, preflight: bool = False
) -> CorsFailure | None:
    """The CORS check with a diagnosis: None if the response may be shared, else the failed step.

    https://fetch.spec.whatwg.org/#concept-cors-check

    >>> check_access((("Access-Control-Allow-Origin", "*"),), origin="http://localhost:3000", credentials_mode="include").kind
    'WildcardOriginNotAllowed'
    """
    prefix = "Preflight" if preflight else ""
    # 1. Let origin be the result of getting `Access-Control-Allow-Origin`.
    value = _get(headers, "access-control-allow-origin")
    if rules.multiple_origins == "lines" and _lines(headers, "access-control-allow-origin") > 1:
        return CorsFailure(prefix + "MultipleAllowOriginValues", value)
    # 2. If origin is null, return failure.
    if value is None:
        return CorsFailure(prefix + "MissingAllowOriginHeader")
    include = credentials_mode == "include"
    # 3. If credentials mode is not "include" and origin is `*`, return success.
    if value == "*":
        if not include:
            return None
        return CorsFailure(prefix + "WildcardOriginNotAllowed")
    # 4. If the byte-serialized request origin is not origin, return failure.
    if value != origin:
        if rules.multiple_origins == "space-or-comma" and (" " in value or "," in value):
            return CorsFailure(prefix + "MultipleAllowOriginValues", value)
        if rules.multiple_origins == "comma" and "," in value:
            return CorsFailure(prefix + "MultipleAllowOriginValues", value)
        if rules.invalid_origin_value and value != "null" and not _valid_url(value):
            return CorsFailure(prefix + "InvalidAllowOriginValue", value)
        return CorsFailure(prefix + "AllowOriginMismatch", value)
    # 5. If credentials mode is not "include", return success.
    if not include:
        return None
    # 6-7. `Access-Control-Allow-Credentials` must be exactly `true`.
    credentials = _get(headers, "access-control-allow-credentials")
    if credentials != "true":
        return CorsFailure(prefix + "InvalidAllowCredentials", credentials or "")
    return None


def cors_check(headers: Headers, *, origin: str, credentials_mode: CredentialsMode) -> bool:
    """https://fetch.spec.whatwg.org/#concept-cors-check: True for success.

    >>> cors_check((("Access-Control-Allow-Origin", "http://localhost:3000/"),), origin="http://localhost:3000", credentials_mode="omit")
    False
    """
    return check_access(headers, origin=origin, credentials_mode=credentials_mode) is None


@dataclass(frozen=True)
class PreflightVerdict:
    """What a preflight response allows.

    Fields:
        failure: None when the actual request may go ahead.
        methods / header_names: the parsed ``Access-Control-Allow-Methods`` and
            ``-Headers`` lists (empty when absent or unparsable).
        max_age: ``Access-Control-Max-Age`` as the engine reads it, before its
            cap (None when absent or invalid: the engine's default applies).
        authorization_by_wildcard: ``Authorization`` got through only because of
            ``Access-Control-Allow-Headers: *`` (which the spec does not allow).
    """

    failure: CorsFailure | None
    methods: tuple[str, ...] = ()
    header_names: tuple[str, ...] = ()
    max_age: int | None = None
    authorization_by_wildcard: bool = False


def preflight_verdict(
    *,
    status: int,
    headers: Headers,
    origin: str,
    method: str,
    unsafe_header_names: Iterable[str],
    credentials_mode: CredentialsMode,
    rules: AccessRules = SPEC_RULES,
    authorization_covered_by_wildcard: bool = False,
    use_cors_preflight: bool = False,
) -> PreflightVerdict:
    """Step 7 of https://fetch.spec.whatwg.org/#cors-preflight-fetch-0: check a preflight response.

    ``authorization_covered_by_wildcard`` is an engine departure (Chromium,
    Firefox and WebKit let ``*`` cover ``Authorization``; the spec does not).

    >>> preflight_verdict(status=204, headers=(("Access-Control-Allow-Origin", "*"),), origin="http://a.test",
    ...                   method="PUT", unsafe_header_names=[], credentials_mode="omit").failure.kind
    'MethodDisallowedByPreflightResponse'
    """
    include = credentials_mode == "include"
    # 7. A successful preflight needs a passing CORS check and an ok status.
    status_failure = None if is_ok_status(status) else CorsFailure("PreflightInvalidStatus", detail={"status": status})
    if rules.preflight_status_first and status_failure is not None:
        return PreflightVerdict(status_failure)
    access = check_access(headers, origin=origin, credentials_mode=credentials_mode, rules=rules, preflight=True)
    if access is not None:
        return PreflightVerdict(access)
    if status_failure is not None:
        return PreflightVerdict(status_failure)
    # 7.1-7.3. Extract the allowed methods and header names; failure is a network error.
    parsed_methods = extract_header_list_values(headers, "access-control-allow-methods")
    if parsed_methods is FAILURE:
        return PreflightVerdict(CorsFailure("InvalidAllowMethodsPreflightResponse", _get(headers, "access-control-allow-methods")))
    methods = list(parsed_methods or [])
    # 7.4. With the use-CORS-preflight flag, an absent list caches the request's method.
    if not methods and use_cors_preflight:
        methods = [method]
    # 7.5. The method must be listed (byte for byte), safelisted, or covered by `*` without credentials.
    method_allowed = method in methods or is_cors_safelisted_method(method) or ("*" in methods and not include)
    method_failure = CorsFailure("MethodDisallowedByPreflightResponse", method)
    if not method_allowed and rules.method_before_allow_headers:
        return PreflightVerdict(method_failure, tuple(methods))
    parsed_names = extract_header_list_values(headers, "access-control-allow-headers")
    if parsed_names is FAILURE:
        return PreflightVerdict(CorsFailure("InvalidAllowHeadersPreflightResponse", _get(headers, "access-control-allow-headers")))
    header_names = list(parsed_names or [])
    if not method_allowed:
        return PreflightVerdict(method_failure, tuple(methods), tuple(header_names))
    lowered = {name.lower() for name in header_names}
    wildcard = "*" in header_names and not include
    authorization_by_wildcard = False
    # Checked in the order given (Chromium reports the first failing name in request order),
    # sorted, as in Access-Control-Request-Headers (Firefox), or in the engine's own order (WebKit).
    given = list(unsafe_header_names)
    if rules.header_order is not None:
        spelled = list(dict.fromkeys(rules.header_order(given)))
    else:
        first_spelling: dict[str, str] = {}
        for name in given:
            first_spelling.setdefault(name.lower(), name)
        spelled = sorted(first_spelling.values(), key=str.lower) if rules.sorted_header_check else list(first_spelling.values())
    for shown in spelled:
        name = shown.lower()
        if name in lowered:
            continue
        disallowed = CorsFailure("HeaderDisallowedByPreflightResponse", name, {"name": shown})
        # 7.6. `*` never covers a CORS non-wildcard request-header name (Authorization) ...
        if wildcard and is_cors_non_wildcard_request_header_name(name):
            if authorization_covered_by_wildcard:  # ... but every engine still lets it through.
                authorization_by_wildcard = True
                continue
            return PreflightVerdict(disallowed, tuple(methods), tuple(header_names))
        # 7.7. Every other unsafe name must be listed, or covered by `*` without credentials.
        if wildcard:
            continue
        return PreflightVerdict(disallowed, tuple(methods), tuple(header_names))
    return PreflightVerdict(
        None, tuple(methods), tuple(header_names), _max_age(headers), authorization_by_wildcard=authorization_by_wildcard
    )


def _max_age(headers: Headers) -> int | None:
    # 7.8. `Access-Control-Max-Age` is delta-seconds; anything else means "use the default".
    value = _get(headers, "access-control-max-age")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit() and value.isascii():
        return int(value)
    if value.startswith("-") and value[1:].isdigit():
        return int(value)
    return None


# -- What script can read ----------------------------------------------------------------------

ALL = "*"


def exposed_header_names(headers: Headers, *, credentials_mode: CredentialsMode) -> frozenset[str] | str:
    """The response's CORS-exposed header-name list (lowercased), or ``"*"`` for every name.

    https://fetch.spec.whatwg.org/#concept-main-fetch step 14 (response tainting "cors").

    >>> sorted(exposed_header_names((("Access-Control-Expose-Headers", "X-Total-Count, Link"),), credentials_mode="omit"))
    ['link', 'x-total-count']
    """
    names = extract_header_list_values(headers, "access-control-expose-headers")
    if names is None or names is FAILURE:
        return frozenset()
    # `*` exposes every name, but only when credentials are not included.
    if credentials_mode != "include" and "*" in names:
        return ALL
    return frozenset(name.lower() for name in names)


def cors_filtered_headers(headers: Headers, *, credentials_mode: CredentialsMode) -> dict[str, str]:
    """https://fetch.spec.whatwg.org/#concept-filtered-response-cors: the headers script can read, by lowercase name.

    Repeated lines are combined with ``", "``, as ``Headers.get()`` returns them.
    """
    exposed = exposed_header_names(headers, credentials_mode=credentials_mode)
    if exposed == ALL:
        return basic_filtered_headers(headers)  # every name but Set-Cookie
    return _combined(headers, lambda name: is_cors_safelisted_response_header_name(name, exposed))  # type: ignore[arg-type]


def basic_filtered_headers(headers: Headers) -> dict[str, str]:
    """https://fetch.spec.whatwg.org/#concept-filtered-response-basic: everything but ``Set-Cookie``."""
    return _combined(headers, lambda name: not is_forbidden_response_header_name(name))


def _combined(headers: Headers, readable: Callable[[str], bool]) -> dict[str, str]:
    """The ``readable`` headers by lowercase name, repeated lines joined with ``", "`` as ``Headers.get()`` does."""
    combined: dict[str, str] = {}
    for name, value in headers:
        lowered = name.lower()
        if readable(lowered):
            value = value.strip(" \t")
            combined[lowered] = f"{combined[lowered]}, {value}" if lowered in combined else value
    return combined
