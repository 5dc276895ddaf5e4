"""Transport and session: HTTP rules (timeouts, retries, safe redirects) and the session object."""

from .session import Session
from .transport import DEFAULT_TIMEOUT, Transport, check_url

__all__ = ["DEFAULT_TIMEOUT", "Session", "Transport", "check_url"]
