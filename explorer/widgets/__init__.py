"""Jupyter widgets (ipywidgets 8): a credential form, an ICD browser, WHO's ICD-11 coding
tool, a data grid and a resource view.

>>> import explorer
>>> form = explorer.login("icd", live=False)
<CredentialForm icd: not connected>
>>> browser = explorer.widgets.IcdBrowser(form)     # waits for Connect
>>> tool = explorer.widgets.CodingTool(form)        # WHO's Embedded Coding Tool, the same way
>>> view = explorer.widgets.ResourceView(explorer.connect("itcare", sandbox=True))
"""

from __future__ import annotations

try:
    import ipywidgets  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("explorer's widgets need ipywidgets: pip install 'explorer[notebooks]'"
                      ) from exc

from .coding_tool import CodingTool
from .credential_form import CredentialForm, login
from .grid import DataGrid, format_cell
from .icd_browser import IcdBrowser
from .resource_view import ResourceView

__all__ = ["CodingTool", "CredentialForm", "DataGrid", "IcdBrowser", "ResourceView", "format_cell",
           "login"]
