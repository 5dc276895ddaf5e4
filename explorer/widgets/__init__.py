"""Jupyter widgets (ipywidgets 8): a credential form, an ICD browser and a resource view.

>>> import explorer
>>> form = explorer.login("icd", live=False)
<CredentialForm icd: not connected>
>>> browser = explorer.widgets.IcdBrowser(form)     # waits for Connect
>>> view = explorer.widgets.ResourceView(explorer.connect("itcare", sandbox=True))
"""

from __future__ import annotations

try:
    import ipywidgets  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("explorer's widgets need ipywidgets: pip install 'explorer[notebooks]'"
                      ) from exc

from .credential_form import CredentialForm, login
from .grid import DataGrid, format_cell
from .icd_browser import IcdBrowser
from .resource_view import ResourceView

__all__ = ["CredentialForm", "DataGrid", "IcdBrowser", "ResourceView", "format_cell", "login"]
