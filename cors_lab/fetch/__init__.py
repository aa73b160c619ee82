"""The sans-IO core: the Fetch Standard's CORS algorithms as pure functions over plain data.

Nothing here does I/O or imports the transport or the display. Modules:

- :mod:`~cors_lab.fetch.urls`: URL parsing, origins, same origin, same site.
- :mod:`~cors_lab.fetch.headers`: safelisted and forbidden methods and headers, MIME and Range parsing.
- :mod:`~cors_lab.fetch.preflight`: whether a request needs a preflight, in words.
- :mod:`~cors_lab.fetch.cors`: the CORS check, the preflight response check, exposed headers.
- :mod:`~cors_lab.fetch.cache`: the preflight cache.
- :mod:`~cors_lab.fetch.cookies`: the cookie jar and SameSite rules.
"""
