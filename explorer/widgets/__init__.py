"""Jupyter widgets (ipywidgets 8): a credential form, an ICD browser and a resource view.

>>> import explorer
>>> form = explorer.login("icd")                    # doctest: +SKIP
>>> browser = explorer.widgets.IcdBrowser(form)     # waits for Connect   # doctest: +SKIP
>>> view = explorer.widgets.ResourceView(explorer.connect("itcare", sandbox=True))  # doctest: +SKIP
"""

from __future__ import annotations

from .credential_form import CredentialForm, login
from .icd_browser import IcdBrowser
from .resource_view import ResourceView

__all__ = ["CredentialForm", "IcdBrowser", "ResourceView", "login"]
