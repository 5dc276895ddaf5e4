"""``CredentialForm``: a login form built from a provider's profile, and :func:`login`.

The form asks for what the provider needs (secrets in ``Password`` fields), pre-fills what the
environment holds without ever showing a secret (an empty field whose placeholder says
"set in ICD_CLIENT_SECRET"), and connects with a real token request. A "Use sandbox" switch
(on by default when no credentials are set) uses the embedded sandbox instead.

>>> form = CredentialForm("icd", live=False)
>>> form.inputs["use_sandbox"].value = True
>>> form.connect_button.click()
>>> form.session.provider, form.session.deployment
('icd', 'sandbox')
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..apis import PROFILES
from ..errors import ConfigurationError, Redactor
from ._util import Busy, error_html

__all__ = ["CredentialForm", "login"]

#: Fields holding secrets: always ``Password`` widgets, never pre-filled.
SECRET_FIELDS = ("client_secret", "password", "api_key")
#: Credential fields in display order (those the profile's ``env`` names are shown).
CREDENTIAL_FIELDS = ("client_id", "client_secret", "username", "password", "api_key")
LABELS = {
    "client_id": "Client id", "client_secret": "Client secret", "username": "Username",
    "password": "Password", "api_key": "API key", "environment": "Environment",
    "release": "Release", "language": "Language", "base_url": "Base URL",
    "token_url": "Token URL", "idcons_url": "IDCONS URL", "reporting_url": "Reporting URL",
    "use_sandbox": "Use sandbox",
}
#: Languages of ICD-11 MMS releases (the server says which a release has).
ICD_LANGUAGES = ("en", "ar", "cs", "es", "fr", "pt", "ru", "tr", "uz", "zh")
_STYLE = {"description_width": "8em"}
_WIDE = w.Layout(width="32em")


def _environment(env: Mapping[str, str] | None) -> dict[str, str]:
    """The process environment, with a ``./.env`` file underneath (as connect reads them)."""
    if env is not None:
        return dict(env)
    values: dict[str, str] = {}
    if Path(".env").is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(".env").items() if v})
    values.update(os.environ)
    return values


class CredentialForm(w.VBox):
    """A login form for ``api`` ("icd", "itcare", "gopacs", "jindexe").

    ``inputs`` maps field names (``client_id``, ``client_secret``, ``environment``, ``release``,
    ``language``, ``base_url``, ``token_url``, ``use_sandbox``…) to their widgets;
    ``connect_button`` connects; ``session`` is the connected session (or ``None``), ``error``
    the last failure (or ``None``). ``on_connect(session)`` callbacks run after a success.

    ``sandbox=`` a running :class:`explorer.sandbox.Sandbox` to use instead of the shared one;
    ``env=`` a mapping to read instead of ``os.environ`` and ``./.env``; ``live=False`` stops the
    timer that keeps "expires in" current (call :meth:`refresh_status` yourself).

    >>> form = CredentialForm("gopacs", on_connect=lambda s: print(s.provider), live=False)
    >>> form.inputs["use_sandbox"].value = True
    >>> form.connect_button.click()
    gopacs
    """

    def __init__(self, api: str, *, on_connect: Callable[[Any], Any] | None = None,
                 sandbox: Any = None, env: Mapping[str, str] | None = None, live: bool = True,
                 interval: float = 1.0, **options: Any) -> None:
        name = api.lower()
        if name not in PROFILES or name == "oauth2":
            raise ConfigurationError(f"unknown API {api!r}",
                                     hint="use one of 'icd', 'itcare', 'gopacs', 'jindexe'")
        self.api = name
        self.profile = PROFILES[name]
        self.session: Any = None
        self.error: BaseException | None = None
        self._sandbox = sandbox
        self._options = options
        self._callbacks: list[Callable[[Any], Any]] = [on_connect] if on_connect else []
        self._live = live
        self._interval = interval
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._env = _environment(env)
        self._env_set = {k for k, var in self.profile.env.items() if self._env.get(var)}

        self.inputs: dict[str, w.Widget] = {}
        self.title = w.HTML(f"<h3 style='margin:0'>{escape(self.profile.title)}</h3>")
        main = [self._credential(k) for k in CREDENTIAL_FIELDS if k in self.profile.env]
        main += self._settings()
        advanced = self._advanced()
        self.advanced = w.Accordion(children=[w.VBox(advanced)], titles=("Advanced",))
        self.advanced.selected_index = None
        has_real = bool(self._env_set & set(CREDENTIAL_FIELDS))
        self.inputs["use_sandbox"] = w.Checkbox(
            value=not has_real, description=LABELS["use_sandbox"], indent=False,
            tooltip="the embedded sandbox on 127.0.0.1: seeded data, no real credentials")
        self.mode = w.HTML()
        self.connect_button = w.Button(description="Connect", button_style="primary",
                                       icon="plug")
        self.busy = Busy()
        self.busy.disable_while_busy(self.connect_button)
        self.status = w.HTML()
        self.message = w.HTML()
        self._credential_boxes = main + advanced
        self.inputs["use_sandbox"].observe(self._on_mode, names="value")
        self.connect_button.on_click(lambda _b: self.connect())
        super().__init__(children=[
            self.title, *main, self.advanced,
            w.HBox([self.inputs["use_sandbox"], self.mode]),
            w.HBox([self.connect_button, self.busy.widget]),
            self.message, self.status,
        ])
        self._on_mode()

    # -- building -----------------------------------------------------------------------------
    def _placeholder(self, key: str, default: str = "") -> str:
        var = self.profile.env.get(key)
        if var and key in self._env_set:
            return f"set in {var}"
        if var:
            return default or f"or set {var}"
        return default

    def _credential(self, key: str) -> w.Widget:
        cls = w.Password if key in SECRET_FIELDS else w.Text
        value = "" if key in SECRET_FIELDS else self._env.get(self.profile.env[key], "")
        widget = cls(value=value, description=LABELS.get(key, key),
                     placeholder=self._placeholder(key), style=_STYLE, layout=_WIDE)
        self.inputs[key] = widget
        return widget

    def _settings(self) -> list[w.Widget]:
        out: list[w.Widget] = []
        profile = self.profile
        if profile.environments:
            var = profile.env.get("environment")
            chosen = self._env.get(var or "", "") or self._options.pop("environment", None) \
                or profile.default_environment
            options = sorted(profile.environments)
            widget = w.Dropdown(options=options,
                                value=chosen if chosen in options else options[0],
                                description=LABELS["environment"], style=_STYLE)
            self.inputs["environment"] = widget
            out.append(widget)
        if self.api == "icd":
            release = self._options.pop("release", None) or ""
            language = self._options.pop("language", None) or "en"
            languages = list(ICD_LANGUAGES) + ([language] if language not in ICD_LANGUAGES
                                               else [])
            self.inputs["release"] = w.Text(value=release, description=LABELS["release"],
                                            placeholder="latest (e.g. 2025-01)", style=_STYLE,
                                            layout=_WIDE)
            self.inputs["language"] = w.Dropdown(options=languages, value=language,
                                                 description=LABELS["language"], style=_STYLE)
            out += [self.inputs["release"], self.inputs["language"]]
        if "base_url" in profile.env:  # Jindexe: no public default, the URL is a main setting
            value = self._env.get(profile.env["base_url"], "")
            self.inputs["base_url"] = w.Text(value=value, description=LABELS["base_url"],
                                             placeholder=self._placeholder("base_url",
                                                                           "https://…"),
                                             style=_STYLE, layout=_WIDE)
            out.append(self.inputs["base_url"])
        return out

    def _advanced(self) -> list[w.Widget]:
        urls = self.profile.environment_urls(None)
        keys = [k for k in ("base_url", "token_url", "idcons_url", "reporting_url")
                if k in urls and k not in self.inputs]
        out = []
        for key in keys:
            widget = w.Text(value="", description=LABELS.get(key, key),
                            placeholder=f"default: {urls[key]}", style=_STYLE, layout=_WIDE)
            self.inputs[key] = widget
            out.append(widget)
        if not out:
            out.append(w.HTML("<em>No URL to override.</em>"))
        return out

    def _on_mode(self, _change: Any = None) -> None:
        sandbox = self.inputs["use_sandbox"].value
        for widget in self._credential_boxes:
            if hasattr(widget, "disabled"):
                widget.disabled = sandbox
        if sandbox:
            self.mode.value = ("<b style='color:#06c'>Using the embedded sandbox</b> "
                               "<small>(127.0.0.1, seeded data, no real credentials)</small>")
        else:
            urls = self.profile.environment_urls(self._environment_name())
            where = self._value("base_url") or urls.get("base_url") or "the URL you give"
            self.mode.value = (f"<b style='color:#070'>Using the real service</b> "
                               f"<small>{escape(where)}</small>")

    # -- reading the form -----------------------------------------------------------------------
    def _value(self, key: str) -> str:
        widget = self.inputs.get(key)
        value = getattr(widget, "value", "") if widget is not None else ""
        return value.strip() if isinstance(value, str) and key not in SECRET_FIELDS else value

    def _environment_name(self) -> str | None:
        widget = self.inputs.get("environment")
        return widget.value if widget is not None else None

    def _typed_secrets(self) -> list[str]:
        return [self.inputs[k].value for k in SECRET_FIELDS if k in self.inputs
                and self.inputs[k].value]

    def connect_arguments(self) -> dict[str, Any]:
        """The keyword arguments of :func:`explorer.connect` the form stands for (no secrets
        from the environment: connect reads those itself)."""
        kwargs: dict[str, Any] = dict(self._options)
        if "environment" in self.inputs:
            kwargs["environment"] = self._environment_name()
        if self.api == "icd":
            kwargs["language"] = self._value("language") or "en"
            if self._value("release"):
                kwargs["release"] = self._value("release")
        if self.inputs["use_sandbox"].value:
            return kwargs
        for key in (*CREDENTIAL_FIELDS, "base_url", "token_url", "idcons_url", "reporting_url"):
            if key in self.inputs and self._value(key):
                kwargs[key] = self._value(key)
        return kwargs

    # -- connecting -----------------------------------------------------------------------------
    def on_connect(self, callback: Callable[[Any], Any]) -> None:
        """Call ``callback(session)`` after each successful connect (now, if connected)."""
        self._callbacks.append(callback)
        if self.session is not None:
            callback(self.session)

    def connect(self) -> Any:
        """Connect with what the form holds (what the Connect button does); returns the session,
        or ``None`` after a failure (shown in the form, kept in :attr:`error`)."""
        import explorer

        redact = Redactor()
        redact.add(*self._typed_secrets())
        kwargs = self.connect_arguments()
        sandbox = self.inputs["use_sandbox"].value
        where = "the sandbox" if sandbox else "the real service"
        self.message.value = ""
        try:
            with self.busy(f"Connecting to {self.profile.title} ({where})…"):
                if sandbox:
                    box = self._sandbox
                    if box is None:
                        box = explorer.sandbox.shared()
                    extra = {"environment": kwargs["environment"]} \
                        if "environment" in kwargs else {}
                    creds = box.credentials(self.api, **extra)
                    redact.add(*(str(v) for k, v in creds.items() if k in SECRET_FIELDS))
                    session = explorer.connect(self.api, sandbox=True, **{**creds, **kwargs})
                else:
                    session = explorer.connect(self.api, **kwargs)
                if session.flow is not None:
                    session.token  # noqa: B018 - a real token request, now
        except Exception as exc:  # noqa: BLE001 - every failure is shown in the form
            self.error = exc
            self.message.value = error_html(exc, redact)
            self.status.value = ""
            return None
        self.error = None
        previous, self.session = self.session, session
        if previous is not None and previous is not session:
            previous.close()
        for key in SECRET_FIELDS:
            if key in self.inputs:
                self.inputs[key].value = ""
        self.refresh_status()
        self._start_timer()
        for callback in list(self._callbacks):
            try:
                callback(session)
            except Exception as exc:  # noqa: BLE001 - a callback failing is shown, not raised
                self.message.value = error_html(exc, session.redact)
        return session

    # -- status ---------------------------------------------------------------------------------
    def status_text(self) -> str:
        """One line: who is connected and when the token expires (no secret)."""
        session = self.session
        if session is None:
            return "not connected"
        token = session.flow.current if session.flow else None
        if session.flow is None:
            auth = "no token needed"
        elif token is None:
            auth = "no token yet"
        elif token.expires_in > 0:
            auth = f"token expires in {_duration(token.expires_in)}"
        else:
            auth = "token expired (renewed on the next call)"
        return (f"Connected to {session.profile.title} [{session.deployment}] at "
                f"{session.base_url}; {auth}")

    def refresh_status(self) -> None:
        """Redraw the status: the session's card, its token's card and "expires in"."""
        session = self.session
        if session is None:
            self.status.value = ""
            return
        parts = [f"<div class='explorer-connected'><b>✓</b> {escape(self.status_text())}</div>",
                 session._repr_html_()]
        token = session.flow.current if session.flow else None
        if token is not None:
            parts.append(token._repr_html_())
        self.status.value = "".join(parts)

    def _start_timer(self) -> None:
        if not self._live or (self._timer is not None and self._timer.is_alive()):
            return
        self._stop.clear()
        self._timer = threading.Thread(target=self._tick, name="explorer-form-timer",
                                       daemon=True)
        self._timer.start()

    def _tick(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.refresh_status()
            except Exception:  # noqa: BLE001 - a closed widget ends the timer
                return

    def stop_timer(self) -> None:
        """Stop updating "expires in" (the form still works; :meth:`refresh_status` too)."""
        stop, timer = getattr(self, "_stop", None), getattr(self, "_timer", None)
        if stop is not None:
            stop.set()
        if timer is not None and timer is not threading.current_thread():
            timer.join(timeout=5)

    def close(self) -> None:
        self.stop_timer()
        super().close()

    def __repr__(self) -> str:
        return f"<CredentialForm {self.api}: {self.status_text()}>"


def _duration(seconds: float) -> str:
    """``"59 min 58 s"``, ``"42 s"``.

    >>> _duration(3598.4), _duration(42)
    ('59 min 58 s', '42 s')
    """
    total = max(0, round(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def login(api: str, **kwargs: Any) -> CredentialForm:
    """Display a :class:`CredentialForm` for ``api`` and return it.

    >>> import explorer
    >>> form = explorer.login("icd", live=False)   # outside Jupyter, display() prints it
    <CredentialForm icd: not connected>
    >>> icd = form.session                         # after Connect; None until then
    """
    from IPython.display import display

    form = CredentialForm(api, **kwargs)
    display(form)
    return form
