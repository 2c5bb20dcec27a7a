"""Credentials for an external store: which HTTP scheme it asks for, and an opener that answers."""

from __future__ import annotations

import http.client
import re
import socket
import urllib.error
import urllib.request

from publisher.store.base import StoreError, StoreUnavailable

__all__ = ["challenge", "describe_failure", "opener"]


def describe_failure(url: str, exc: BaseException) -> StoreError:
    """The store error for a failed HTTP exchange: unavailable when the store cannot be reached."""
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 401:
            return StoreError(f"{url}: the store refused the credentials (HTTP 401); "
                              "check KIEZGRAPH_STORE_USER and KIEZGRAPH_STORE_PASSWORD")
        if exc.code == 403:
            return StoreError(f"{url}: the store's user may not do this (HTTP 403)")
        if exc.code in (502, 503, 504):
            return StoreUnavailable(f"{url}: the store is unavailable (HTTP {exc.code})")
        return StoreError(f"{url}: the store answered HTTP {exc.code}{_said(exc)}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return StoreUnavailable(f"{url}: the store did not answer in time")
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        text = getattr(reason, "strerror", None) or str(reason)
        return StoreUnavailable(f"{url}: cannot reach the store ({text})")
    if isinstance(exc, OSError | http.client.HTTPException):
        return StoreUnavailable(f"{url}: cannot reach the store ({exc.__class__.__name__})")
    return StoreError(f"{url}: {exc}")


def _said(exc: urllib.error.HTTPError) -> str:
    """The first lines of an error answer's body, for the message."""
    try:
        text = exc.read(2000).decode("utf-8", "replace")
    except Exception:  # a body that cannot be read adds nothing
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (": " + " ".join(lines[:3])[:400]) if lines else ""


def challenge(url: str, timeout: float = 10.0) -> tuple[str, str]:
    """The auth scheme ('basic', 'digest' or '' for none) the endpoint asks for, and its realm."""
    request = urllib.request.Request(url, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return "", ""
    except urllib.error.HTTPError as exc:
        if exc.code != 401:
            return "", ""
        header = (exc.headers.get("WWW-Authenticate") or "").strip()
        realm = re.search(r'realm="([^"]*)"', header)
        scheme = "digest" if header.lower().startswith("digest") else "basic"
        return scheme, realm.group(1) if realm else ""
    except Exception as exc:  # every failure to connect is reported alike
        raise describe_failure(url, exc) from None


def opener(url: str, user: str, password: str) -> urllib.request.OpenerDirector:
    """An opener that answers basic and digest challenges for url with the credentials."""
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    if user:
        passwords.add_password(None, url, user, password)
    return urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(passwords),
                                       urllib.request.HTTPDigestAuthHandler(passwords))
