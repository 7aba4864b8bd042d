"""Signing in to the app, and who the signed-in user is (their :class:`engine.access.Principal`).

Three ways, chosen by the configuration:

- ``[auth]`` in ``.streamlit/secrets.toml``: OpenID Connect with Streamlit's own ``st.login`` (Entra ID,
  Okta, Google, Keycloak...). The principal is the user's e-mail (else the ``sub`` claim), named by the
  ``name`` claim, with the roles of their entry in the roles file and of their identity provider groups
  (the claim ``groups_claim``, by default ``groups``). Streamlit keeps the identity in a signed cookie; a
  forged or altered cookie is not accepted;
- otherwise, a roles file (``RISKMAP_ROLES``) with password hashes: a local-account sign-in form
  (:func:`engine.access.authenticate`); the sign-in lasts as long as the browser session;
- otherwise, the single-user default: no sign-in, everyone who can open the app acts as the account
  running it (every role without a roles file), and every page says so.

Sessions end: a sign-in older than ``RISKMAP_SESSION_HOURS`` (default 8) is refused and must be made
again (Streamlit's cookie lives 30 days, so the app checks the identity token's ``iat``/``auth_time``),
and a session idle for more than ``RISKMAP_IDLE_MINUTES`` (default 30) is signed out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import streamlit as st

from engine import access
from engine.errors import PermissionDenied, RiskmapError
from ui.common import md

__all__ = ["IDLE_ENV", "SESSION_ENV", "current", "mode", "notice", "sign_out"]

SESSION_ENV = "RISKMAP_SESSION_HOURS"
IDLE_ENV = "RISKMAP_IDLE_MINUTES"
_LOCAL_KEY = "riskmap_signed_in"
_SEEN_KEY = "riskmap_last_seen"
_EXPIRED_KEY = "riskmap_session_expired"


def _hours(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


def session_seconds() -> float:
    """How long a sign-in holds (``RISKMAP_SESSION_HOURS``)."""
    return _hours(SESSION_ENV, 8.0) * 3600


def idle_seconds() -> float:
    """How long a session may stay idle (``RISKMAP_IDLE_MINUTES``)."""
    return _hours(IDLE_ENV, 30.0) * 60


def _auth_section() -> Mapping[str, Any] | None:
    """The ``[auth]`` section of the app's secrets, or None (no secrets file, or no section)."""
    try:
        section = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets.toml at all
        return None
    return section if isinstance(section, Mapping) and section else None


def mode() -> str:
    """``oidc`` (``[auth]`` configured), ``password`` (the roles file has local accounts) or ``none``."""
    if _auth_section() is not None:
        return "oidc"
    roles = access.load_roles()
    return "password" if roles is not None and roles.has_passwords else "none"


def _providers(section: Mapping[str, Any]) -> list[str | None]:
    """The providers to offer: None for a single provider configured in ``[auth]`` itself, else the names
    of its subsections (``[auth.microsoft]``...)."""
    if "client_id" in section:
        return [None]
    return [k for k, v in section.items() if isinstance(v, Mapping)] or [None]


def _expired(signed_in_at: float | None) -> bool:
    now = time.time()
    last = st.session_state.get(_SEEN_KEY)
    if last is not None and now - float(last) > idle_seconds():
        return True
    return signed_in_at is None or now - signed_in_at > session_seconds()


def _touch() -> None:
    st.session_state[_SEEN_KEY] = time.time()


def _oidc() -> access.Principal | None:
    section = _auth_section() or {}
    user = st.user
    if not user.get("is_logged_in"):
        _sign_in_page("Sign in with your organisation's account.")
        for provider in _providers(section):
            label = "Sign in" if provider is None else f"Sign in with {provider}"
            if st.button(label, type="primary", key=f"sign_in_{provider or 'default'}"):
                st.login() if provider is None else st.login(provider)
        return None
    issued = user.get("auth_time") or user.get("iat")
    if _expired(float(issued) if isinstance(issued, (int, float)) else None):
        st.session_state.pop(_SEEN_KEY, None)
        _sign_in_page("Your session has expired. Sign in again to go on.")
        if st.button("Sign in again", type="primary", key="sign_in_again"):
            st.login() if _providers(section)[0] is None else st.login(_providers(section)[0])
        return None
    _touch()
    ident = str(user.get("email") or user.get("sub") or "").strip()
    if not ident:
        _sign_in_page("The identity provider did not say who you are (no email or sub claim).")
        return None
    roles = access.load_roles()
    claim = roles.groups_claim if roles is not None else access.DEFAULT_GROUPS_CLAIM
    groups = user.get(claim) or []
    return access.principal_for(ident, auth="oidc", name=str(user.get("name") or "") or None,
                                email=str(user.get("email") or "") or None,
                                groups=[groups] if isinstance(groups, str) else list(groups))


def _local() -> access.Principal | None:
    signed = st.session_state.get(_LOCAL_KEY)
    if signed is not None and _expired(signed["at"]):
        st.session_state.pop(_LOCAL_KEY, None)
        st.session_state.pop(_SEEN_KEY, None)
        st.session_state[_EXPIRED_KEY] = True
        signed = None
    if signed is None:
        message = ("Your session has expired. Sign in again to go on." if st.session_state.get(_EXPIRED_KEY)
                   else "Sign in with your riskmap account.")
        _sign_in_page(message)
        with st.form("sign_in_form"):
            user = st.text_input("User", key="sign_in_user")
            password = st.text_input("Password", type="password", key="sign_in_password")
            submitted = st.form_submit_button("Sign in", type="primary")
        if submitted:
            try:
                who = access.authenticate(user or "", password or "")
            except RiskmapError as exc:
                st.error(md(str(exc)))
                return None
            st.session_state[_LOCAL_KEY] = {"id": who.id, "at": time.time()}
            st.session_state.pop(_EXPIRED_KEY, None)
            st.session_state.pop("sign_in_password", None)
            _touch()
            st.rerun()
        return None
    _touch()
    # Resolved on every run, so a role the roles file withdraws is withdrawn at once.
    return access.principal_for(signed["id"], auth="password")


def _sign_in_page(message: str) -> None:
    st.title("Sign in to riskmap")
    st.write(md(message))


def current() -> access.Principal | None:
    """The principal of this browser session, or None when the page shows the sign-in instead (the app
    then stops). A principal without any role is shown that it has no access."""
    try:
        how = mode()
        if how == "oidc":
            who = _oidc()
        elif how == "password":
            who = _local()
        else:
            who = access.principal_for(access.os_account(), auth="none")
    except RiskmapError as exc:  # a broken roles file: refuse everyone, say why
        st.title("riskmap cannot start")
        st.error(md(str(exc).splitlines()[0]))
        return None
    if who is not None and not who.grants:
        st.title("No access")
        st.error(md(str(PermissionDenied(f"{who.describe()}: the roles file gives you no role in riskmap; ask "
                                         f"an administrator to add you"))))
        sign_out(who)
        return None
    return who


def sign_out(who: access.Principal) -> None:
    """The sign-out button (sign-in modes only)."""
    if who.auth == "oidc":
        if st.button("Sign out", key="sign_out"):
            st.session_state.pop(_SEEN_KEY, None)
            st.logout()
    elif who.auth == "password":
        if st.button("Sign out", key="sign_out"):
            st.session_state.pop(_LOCAL_KEY, None)
            st.session_state.pop(_SEEN_KEY, None)
            st.rerun()


def notice(who: access.Principal) -> None:
    """The line every page shows under its title when the app runs without sign-in."""
    if who.auth == "none":
        st.warning(md(f"riskmap runs without sign-in: everyone who can open this page acts as {who.id} "
                      f"({', '.join(who.roles)}). Configure sign-in before sharing it (README, Security)."),
                   icon=":material/lock_open:")
