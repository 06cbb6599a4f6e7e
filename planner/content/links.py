"""Links in post text, and whether they point at the brand's own domains.

A post is a pitch by what it *is*, not only by its label: one linking to an own domain
(``own_domains`` in the config, subdomains included) counts as a pitch whatever its kind.

Pure: standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

_URL = re.compile(
    r"""
    https?://[^\s<>"'`]+
    # A bare domain, not the tail of an e-mail address, a path or a longer name.
    | (?<![\w@./:-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}\b
      (?::\d{1,5})?(?:/[^\s<>"'`]*)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING = ".,;:!?'\""
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def extract_urls(text: str) -> list[str]:
    """The links in ``text``, in order: http(s) URLs and bare domains like ``example.com/path``.

    Sentence punctuation after a link is not part of it, nor is a closing bracket that has no
    opening partner inside the link. E-mail addresses are not links.
    """
    return [_trim(match.group()) for match in _URL.finditer(text)]


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last)):
            url = url[:-1]
        else:
            break
    return url


def _host(url_or_domain: str) -> str | None:
    """The comparable host of a URL or a bare domain: lower-case, ASCII, no port, no "www."."""
    # Browsers read "\" as "/" in http(s) URLs; so must we, or "\@" could hide the real host.
    text = url_or_domain.strip().replace("\\", "/")
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if not host:
        return None
    host = host.rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if host.startswith("www.") and "." in host[4:]:
        host = host[4:]
    return host or None


def is_own_domain_link(text_or_urls: str | Iterable[str], own_domains: Iterable[str]) -> bool:
    """True if any link points at one of ``own_domains`` or a subdomain of one.

    Accepts post text (links found by :func:`extract_urls`) or the URLs themselves. Matching
    ignores case, ports, user info and a leading ``www.``, and respects label boundaries:
    ``blog.example.com`` matches ``example.com``, ``evil-example.com`` does not.
    """
    return own_domain_link(text_or_urls, own_domains) is not None


def own_domain_link(text_or_urls: str | Iterable[str], own_domains: Iterable[str]) -> str | None:
    """The first link that points at one of ``own_domains`` (matched as by
    :func:`is_own_domain_link`), so a report can say which link made a post a pitch."""
    domains = {host for domain in own_domains if (host := _host(domain))}
    if not domains:
        return None
    urls = extract_urls(text_or_urls) if isinstance(text_or_urls, str) else text_or_urls
    for url in urls:
        host = _host(url)
        if host and any(host == d or host.endswith("." + d) for d in domains):
            return url
    return None


def item_own_domain_link(
    url: str | None,
    text: str | None,
    title: str | None,
    variants: Mapping[str, Mapping[str, object]] | None,
    own_domains: Iterable[str],
) -> str | None:
    """The link to an own domain in an item's url, text, title or network variants, if any:
    the link that makes a give-kind item a pitch."""
    texts = [url or "", text or "", title or ""]
    texts += [str(variant.get("text", "")) for variant in (variants or {}).values()]
    return own_domain_link(" ".join(texts), own_domains)
