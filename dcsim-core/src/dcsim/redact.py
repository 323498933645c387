"""Keeping secrets out of output: masked URLs, settings and log lines.

One rule everywhere: a value is secret when its name (a setting, a plugin setting, a
query parameter) contains one of :data:`SECRET_WORDS`, or when a plugin declares it so;
a URL's password (``user:password@``) is always secret.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit

MASK = "***"
#: Parts of names whose values are secrets (``api_key``, ``db_password``, ``token``...).
SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "key", "credential")


def is_secret_name(name: str) -> bool:
    """Whether a setting or parameter called ``name`` holds a secret."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def mask_query(query: str) -> str:
    """``query`` (``a=1&token=x``) with the values of secret-named parameters masked."""
    if not query:
        return query
    parts = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        shown = MASK if is_secret_name(name) else quote(value, safe="*,.:/-_")
        parts.append(f"{quote(name, safe='_-.')}={shown}")
    return "&".join(parts)


def mask_url(url: str) -> str:
    """``url`` with its password (``user:password@``) and secret query parameters masked."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    # Replaced in place: rebuilding with urlunsplit would drop sqlite:////'s empty host.
    if password is not None:
        userinfo, _, hostport = parts.netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        url = url.replace(f"//{parts.netloc}", f"//{user}:{MASK}@{hostport}", 1)
    if parts.query:
        url = url.replace(f"?{parts.query}", f"?{mask_query(parts.query)}", 1)
    return url


_PATH_WITH_QUERY = re.compile(r"(/[^\s?\"']*)\?([^\s\"']*)")


def redact_text(text: str) -> str:
    """``text`` with every query string in it (``/ws?token=...``) masked by :func:`mask_query`."""
    return _PATH_WITH_QUERY.sub(lambda m: f"{m.group(1)}?{mask_query(m.group(2))}", text)
