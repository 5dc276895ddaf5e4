"""``CredentialForm``: a login form built from a provider's declared fields, and :func:`login`.

The form asks for what the provider declares (:class:`~explorer.session.provider.Field`:
secrets in ``Password`` fields, choices as dropdowns, URLs under "Advanced"), pre-fills what
the environment holds without ever showing a secret (an empty field whose placeholder says
"set in ICD_CLIENT_SECRET"), and connects with a real token request. A "Use sandbox" switch
(on by default when no credentials are set) uses the embedded sandbox instead: the one given
as ``sandbox=``, else the shared one. Once connected, the form shows a compact card (who,
where, the token's scope and expiry) and a setting left empty shows, as its placeholder, the
value the server chose (e.g. the latest release).

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

from .. import apis
from ..connect import connect
from ..errors import ConfigurationError, Redactor
from ..session import Field
from ._util import Busy, error_html

__all__ = ["CredentialForm", "login"]

_STYLE = {"description_width": "8em"}
_TYPE_AGAIN = ("<div class='explorer-note'><small>The secret fields were emptied (a secret is "
               "never kept in the form's state): type them again.</small></div>")
_WIDE = w.Layout(width="32em")
#: URL fields: as wide as the cell allows, up to this; placeholders longer than
#: :data:`_PLACEHOLDER_CHARS` are shortened (the full URL is in the tooltip).
_URL_LAYOUT = {"width": "100%", "max_width": "46em"}
_PLACEHOLDER_CHARS = 58


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
    """A login form for ``api`` (a registered provider: "icd", "itcare", "gopacs", "jindexe"…).

    ``inputs`` maps field names (the provider's fields — ``client_id``, ``client_secret``,
    ``environment``, ``release``…, its URL names under "Advanced", and ``use_sandbox``) to
    their widgets;
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
        provider = apis.get(api)
        if not provider.listed:
            raise ConfigurationError(f"no form for {api!r}",
                                     hint=f"use one of {', '.join(apis.names())}")
        self.api = provider.name
        self.provider = provider
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
        self._env_set = {k for k, var in provider.env.items() if self._env.get(var)}

        self.inputs: dict[str, w.Widget] = {}
        self._url_inputs: list[str] = []
        self._placeholders: dict[str, str] = {}
        self._settings_line = ""
        self.title = w.HTML(f"<h3 style='margin:0'>{escape(provider.title)}</h3>")
        credentials = [f for f in provider.fields if f.kind == "credential"]
        main = [self._credential(f) for f in credentials]
        main += self._settings()
        advanced = self._advanced()
        self.advanced = w.Accordion(children=[w.VBox(advanced)], titles=("Advanced",))
        self.advanced.selected_index = None
        has_real = bool(self._env_set & {f.name for f in credentials})
        offered = _sandbox_offers(self.api, sandbox)
        self.inputs["use_sandbox"] = w.Checkbox(
            value=offered and not has_real, description="Use sandbox", indent=False,
            disabled=not offered,
            layout=w.Layout(width="auto", margin="0 1.5em 0 0") if offered
            else w.Layout(display="none"),
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
        for widget in self.inputs.values():
            widget.observe(self._on_edit, names="value")
        if "environment" in self.inputs:
            self.inputs["environment"].observe(self._url_placeholders, names="value")
        self.connect_button.on_click(lambda _b: self.connect())
        super().__init__(children=[
            self.title, *main, self.advanced,
            w.HBox([self.inputs["use_sandbox"], self.mode],
                   layout=w.Layout(align_items="center", flex_flow="row wrap")),
            w.HBox([self.connect_button, self.busy.widget]),
            self.message, self.status,
        ])
        self.add_class("explorer-credential-form")
        self._on_mode()

    # -- building -----------------------------------------------------------------------------
    def _placeholder(self, field: Field, default: str = "") -> str:
        if field.env and field.name in self._env_set:
            return f"set in {field.env}"
        if field.env:
            return default or field.placeholder or f"or set {field.env}"
        return default or field.placeholder

    def _credential(self, field: Field) -> w.Widget:
        cls = w.Password if field.secret else w.Text
        value = "" if field.secret or not field.env else self._env.get(field.env, "")
        widget = cls(value=value, description=field.title, placeholder=self._placeholder(field),
                     style=_STYLE, layout=_WIDE)
        self.inputs[field.name] = widget
        return widget

    def _settings(self) -> list[w.Widget]:
        out: list[w.Widget] = []
        provider = self.provider
        for field in provider.fields:
            if field.kind == "credential" or (field.kind == "url" and not field.main):
                continue
            given = self._options.pop(field.name, None)
            env_value = self._env.get(field.env or "", "")
            choices = list(field.choices) or (sorted(provider.environments)
                                              if field.name == "environment" else [])
            if choices:
                chosen = env_value or given or field.default or (
                    provider.default_environment if field.name == "environment" else None)
                if chosen and chosen not in choices:
                    choices.append(chosen)
                widget: w.Widget = w.Dropdown(options=choices, value=chosen or choices[0],
                                              description=field.title, style=_STYLE)
            else:
                widget = w.Text(value=given or env_value or "", description=field.title,
                                placeholder=self._placeholder(field, field.placeholder),
                                style=_STYLE, layout=_WIDE)
                self._placeholders[field.name] = widget.placeholder
            self.inputs[field.name] = widget
            out.append(widget)
        return out

    def _advanced(self) -> list[w.Widget]:
        out = []
        for key in self.provider.url_names():
            if key in self.inputs:
                continue
            widget = w.Text(value="", description=Field(key).title, style=_STYLE,
                            layout=w.Layout(**_URL_LAYOUT))
            self.inputs[key] = widget
            self._url_inputs.append(key)
            out.append(widget)
        self._url_placeholders()
        if not out:
            out.append(w.HTML("<em>No URL to override.</em>"))
        return out

    def _url_placeholders(self, _change: Any = None) -> None:
        """The default URLs (of the chosen environment) as placeholders, shortened to fit;
        the full URL in the tooltip."""
        urls = self.provider.environment_urls(self._environment_name())
        under = self.provider.token_path  # a token endpoint under the base URL
        for key in self._url_inputs:
            default = urls.get(key) or (f"<base URL>{under}" if key == "token_url" and under
                                        else "")
            widget = self.inputs[key]
            widget.placeholder = placeholder_url(default)
            widget.tooltip = f"default: {default}" if default else None

    def _on_edit(self, _change: Any = None) -> None:
        """A field changed (or the sandbox switch): the last attempt's message is stale."""
        if self.message.value and not self.busy.active:
            self.message.value = ""

    def _on_mode(self, _change: Any = None) -> None:
        sandbox = self.inputs["use_sandbox"].value
        for widget in self._credential_boxes:
            if hasattr(widget, "disabled"):
                widget.disabled = sandbox
        if sandbox:
            self.mode.value = ("<b style='color:#06c'>Using the embedded sandbox</b> "
                               "<small>(127.0.0.1, seeded data, no real credentials)</small>")
        else:
            urls = self.provider.environment_urls(self._environment_name())
            where = self._value("base_url") or urls.get("base_url") or "the URL you give"
            self.mode.value = (f"<b style='color:#070'>Using the real service</b> "
                               f"<small>{escape(where)}</small>")

    # -- reading the form -----------------------------------------------------------------------
    def _value(self, key: str) -> str:
        widget = self.inputs.get(key)
        value = getattr(widget, "value", "") if widget is not None else ""
        secret = key in self.provider.secrets
        return value.strip() if isinstance(value, str) and not secret else value

    def _environment_name(self) -> str | None:
        widget = self.inputs.get("environment")
        return widget.value if widget is not None else None

    def _typed_secrets(self) -> list[str]:
        return [self.inputs[k].value for k in self.provider.secrets if k in self.inputs
                and self.inputs[k].value]

    def connect_arguments(self) -> dict[str, Any]:
        """The keyword arguments of :func:`explorer.connect` the form stands for (no secrets
        from the environment: connect reads those itself). Settings always count; credentials
        and URLs only for the real service."""
        kwargs: dict[str, Any] = dict(self._options)
        settings = [f.name for f in self.provider.fields if f.kind == "setting"]
        for key in settings:
            if self._value(key):
                kwargs[key] = self._value(key)
        if self.inputs["use_sandbox"].value:
            return kwargs
        for key in self.inputs:
            if key not in settings and key != "use_sandbox" and self._value(key):
                kwargs[key] = self._value(key)
        return kwargs

    # -- connecting -----------------------------------------------------------------------------
    def on_connect(self, callback: Callable[[Any], Any]) -> None:
        """Call ``callback(session)`` after each successful connect (now, if connected)."""
        self._callbacks.append(callback)
        if self.session is not None:
            callback(self.session)

    def _forget_secrets(self) -> None:
        """Empty every secret field: a secret stays out of the widgets' synced state, and so
        out of a notebook saved with its widget state. Other fields keep their values."""
        for key in self.provider.secrets:
            widget = self.inputs.get(key)
            if widget is not None and widget.value:
                widget.value = ""

    def connect(self) -> Any:
        """Connect with what the form holds (what the Connect button does); returns the session,
        or ``None`` after a failure (shown in the form, kept in :attr:`error`).

        The secret fields are emptied as soon as they are read, before any request: whatever
        the outcome (success, failure, an interrupt, a failing callback), no secret is left in
        the widgets' state. After a failure the message asks to type them again.
        """
        try:
            typed = self._typed_secrets()
            kwargs = self.connect_arguments()
        finally:
            self._forget_secrets()
        redact = Redactor()
        redact.add(*typed)
        sandbox = self.inputs["use_sandbox"].value
        where = "the sandbox" if sandbox else "the real service"
        self.message.value = ""
        try:
            with self.busy(f"Connecting to {self.provider.title} ({where})…"):
                if sandbox:
                    session = connect(self.api, sandbox=self._sandbox or True, **kwargs)
                    redact = session.redact
                else:
                    session = connect(self.api, **kwargs)
                if session.flow is not None:
                    session.token  # noqa: B018 - a real token request, now
                settings = self._live_settings(session)
        except Exception as exc:  # noqa: BLE001 - every failure is shown in the form
            self.error = exc
            again = _TYPE_AGAIN if typed and not sandbox else ""
            self.message.value = error_html(exc, redact) + again
            self.status.value = ""
            return None
        self.error = None
        self._show_settings(settings)
        previous, self.session = self.session, session
        if previous is not None and previous is not session:
            previous.close()
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
        return (f"Connected to {session.api.title} [{session.deployment}] at "
                f"{session.base_url}; {self.token_text()}")

    def token_text(self) -> str:
        """The token, in one short line: type, "expires in", scope (no secret)."""
        session = self.session
        if session is None:
            return ""
        token = session.flow.current if session.flow else None
        if session.flow is None:
            return "no token needed"
        if token is None:
            return "no token yet"
        when = (f"expires in {_duration(token.expires_in)}" if token.expires_in > 0
                else "expired (renewed on the next call)")
        parts = [f"{token.token_type} token", when]
        if token.scope:
            parts.append(f"scope {token.scope}")
        return " · ".join(parts)

    def refresh_status(self) -> None:
        """Redraw the connected card: at most four short lines — who and which deployment,
        the URL, the token (expiry, scope), the settings in use."""
        session = self.session
        if session is None:
            self.status.value = ""
            return
        lines = [(f"✓ Connected to {session.api.title} [{session.deployment}]", "b"),
                 (session.base_url, "code"), (self.token_text(), "span")]
        if self._settings_line:
            lines.append((self._settings_line, "span"))
        rows = "".join(
            f"<div class='explorer-connected-row' title='{escape(text)}' style='white-space:"
            f"nowrap;overflow:hidden;text-overflow:ellipsis'><{tag}>{escape(text)}</{tag}></div>"
            for text, tag in lines)
        self.status.value = ("<div class='explorer-connected' style='border-left:3px solid "
                             "#070;padding:2px 0 2px 8px;margin-top:4px;max-width:46em;"
                             f"line-height:1.45'>{rows}</div>")

    def _live_settings(self, session: Any) -> dict[str, str]:
        """The value of each setting as the session resolved it (``session.<name>``: e.g. the
        latest release when none was given). A value that cannot be read is left out."""
        out: dict[str, str] = {}
        for field in self.provider.fields:
            if field.kind != "setting":
                continue
            try:
                value = getattr(session, field.name, None)
            except Exception:  # noqa: BLE001 - a hint only: the session works without it
                continue
            if isinstance(value, str) and value:
                out[field.name] = value
        return out

    def _show_settings(self, settings: Mapping[str, str]) -> None:
        """The settings line of the card; an empty setting's placeholder says what the server
        chose (``latest: 2025-01``)."""
        self._settings_line = " · ".join(f"{Field(k).title.lower()} {v}"
                                         for k, v in settings.items())
        for key, declared in self._placeholders.items():
            if key in settings:
                self.inputs[key].placeholder = f"{declared or 'default'}: {settings[key]}"

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


def _sandbox_offers(api: str, box: Any) -> bool:
    """Whether a sandbox can stand in for ``api``: the one given, else the package's (when its
    extra is installed and it has an emulator of ``api``)."""
    if box is not None:
        return api in box.apis()
    try:
        from ..sandbox import emulators
    except ImportError:  # the sandbox extra is not installed
        return False
    return api in emulators()


def placeholder_url(url: str, limit: int = _PLACEHOLDER_CHARS) -> str:
    """``default: <url>``, shortened to ``limit`` characters by leaving out the scheme, then
    the middle of the path (``host/…/last/two``) — the start and the end say which it is.

    >>> placeholder_url("https://id.who.int")
    'default: https://id.who.int'
    >>> placeholder_url("https://auth.gopacs-services.eu/realms/gopacs/protocol/openid-connect/"
    ...                 "token")
    'default: auth.gopacs-services.eu/…/openid-connect/token'
    """
    if not url:
        return ""
    text = f"default: {url}"
    if len(text) <= limit:
        return text
    bare = url.split("://", 1)[-1]
    host, _, path = bare.partition("/")
    parts = [p for p in path.split("/") if p]
    if len(parts) > 2:
        bare = f"{host}/…/{'/'.join(parts[-2:])}"
    text = f"default: {bare}"
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
