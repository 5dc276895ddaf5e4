"""cegedim.cloud ITCare API: provider, session and DataFrames (seed "Authentication", apis.md §1).

Client credentials with HTTP Basic on Keycloak realm ``cloud``; API under ``/itcare``. Lists
are Spring ``Page`` answers (0-based ``page``, ``size``), except ``/actions`` (a bare array).
Times are ISO-8601 with an offset (``2024-01-15T10:00:00+0100``) or ``Z``; they become UTC
datetimes in the declared columns below.

>>> import explorer
>>> itcare = explorer.connect("itcare", sandbox=True)
>>> itcare.instances(environments="PRODUCTION", families=["DEBIAN", "RHEL"],
...                  progress=False).shape
(433, 53)

No helper changes infrastructure: operations go through ``itcare.request("PATCH", …)``
deliberately, and :meth:`ItcareSession.wait` follows the action they return.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import requests

from ..errors import ApiError
from ..session import Collection, ErrorWords, Field, Filter, Provider, Session, Single, SpringPages
from ..session.collections import comma_list
from ..session.frames import to_frame, to_series
from ..session.parallel import parallel_map, progress_bar
from ..session.session import object_of

__all__ = [
    "ACTION",
    "ENVIRONMENT",
    "INSTANCE",
    "PROVIDER",
    "RESOURCE",
    "SERVICE",
    "SNAPSHOT",
    "ActionFailed",
    "ActionTimeout",
    "ItcareSession",
]


def tags(value: Any) -> str | None:
    """ITCare's ``tags`` filter: ``key:value`` pairs, comma-separated (all required).

    >>> tags({"app": "paie"}), tags([{"key": "app", "value": "web"}, "env:prod"])
    ('app:paie', 'app:web,env:prod')
    """
    if isinstance(value, Mapping):
        if set(value) == {"key", "value"}:
            return f"{value['key']}:{value['value']}"
        return ",".join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, Iterable) and not isinstance(value, str):
        parts = [tags(v) for v in value]
        return ",".join(p for p in parts if p)
    return comma_list(value)


_FILTERS = (
    Filter("names", label="Names", help="comma list; * wildcards; !name excludes"),
    Filter("types", label="Types", kind="choices", choices=("LINUX", "WINDOWS", "AIX")),
    Filter("families", label="Families", kind="choices",
           choices=("DEBIAN", "CENTOS", "RHEL", "UBUNTU", "ORACLE", "WINDOWS", "AIX")),
    Filter("environments", label="Environments", kind="choices",
           choices=("PRODUCTION", "QA", "DEVELOPMENT", "TEST")),
    Filter("statuses", label="Statuses", kind="choices", choices=("ACTIVE", "INACTIVE")),
    Filter("tags", label="Tags", help="key:value, comma-separated (all required)",
           encode_value=tags),
    Filter("services", label="Service ids", kind="number"),
    Filter("az", label="Availability zones", help="zones of the EB and ET regions",
           choices=("EB-A", "EB-B", "EB-C", "ET-A", "ET-B")),
    Filter("ip", label="IP addresses"),
    Filter("vlan", label="VLANs", help="e.g. EB_1125_DMZ8"),
    Filter("backup_status", param="backupStatus", label="Backup status", kind="choices",
           choices=("SUCCESS", "FAILED", "NONE")),
    Filter("recovery_status", param="recoveryStatus", label="Recovery status"),
    Filter("included_in_patch_party", param="includedInPatchParty",
           label="In the patch party", kind="bool"),
    Filter("clouds", label="Cloud ids", kind="number"),
)

# -- declared collections ------------------------------------------------------------------------
INSTANCE = Collection(
    path="/compute/instances",
    name="instances",
    title="Instances",
    columns=(
        "id", "internalResourceId", "name", "path", "category", "resourceType", "type",
        "family", "status", "environment", "serviceId", "serviceKey", "serviceName", "cloudId",
        "cloudName", "productName", "supportLevel", "supportPhase", "creationTime",
        "creationUser", "comment", "ipAddress", "cpu", "ram", "totalSizeDisks", "labelRegion",
        "labelDatacenter", "labelArea", "labelAvailabilityZone", "availabilityZone", "area",
        "region", "network.technicalID", "network.cidr", "network.scope", "network.ipAddress",
        "network.dns", "backup.backupSystem", "backup.size", "backup.type", "backup.lastDate",
        "backup.status", "backupPolicyDetails.backups", "backupPolicyDetails.policies",
        "patchParty.excluded",
        "patchParty.exclusionReason", "patchParty.patchGroup", "patchParty.patchDate",
        "patchParty.patchTag", "tags", "loadbalancers", "isMemberOFLoadBalancer", "replication",
    ),
    iso_times=("creationTime", "backup.lastDate", "patchParty.patchDate"),
    filters=_FILTERS,
)
INSTANCE_DETAIL = Collection(path="/compute/instances/{id}", columns=INSTANCE.columns,
                             iso_times=INSTANCE.iso_times, paging=Single())
RESOURCE = Collection(
    path="/compute/resources",
    name="resources",
    title="Resources",
    columns=("id", "name", "path", "category", "resourceType", "type", "family", "status",
             "environment", "serviceId", "serviceName", "availabilityZone", "creationTime",
             "tags"),
    iso_times=("creationTime",),
    filters=_FILTERS,
)
SERVICE = Collection(
    path="/compute/services",
    name="services",
    title="Services",
    columns=("id", "key", "name", "code", "description", "status", "organisationName",
             "creationTime"),
    iso_times=("creationTime",),
)
SERVICE_DETAIL = Collection(path="/compute/services/{id}", columns=SERVICE.columns,
                            iso_times=SERVICE.iso_times, paging=Single())
ENVIRONMENT = Collection(path="/compute/environments", name="environments",
                         title="Environments", columns=("id", "name", "label"))
ACTION = Collection(
    path="/actions",
    name="actions",
    title="Actions",
    columns=("id", "status", "process", "family", "resourceName", "resourceType", "message",
             "submittedAt", "submittedBy", "lastUpdatedAt", "completedAt"),
    iso_times=("submittedAt", "lastUpdatedAt", "completedAt"),
    paging=Single(),
    filters=(Filter("statuses", label="Statuses", kind="choices",
                    choices=("SUCCESS", "IN_PROGRESS", "ERROR")),
             Filter("resource_name", param="resourceName", label="Resource name"),
             Filter("resource_id", param="resourceId", label="Resource id", kind="number"),
             Filter("service_id", param="serviceId", label="Service id", kind="number"),
             Filter("request_id", param="requestId", label="Request id")),
)
ACTION_DETAIL = Collection(path="/actions/{id}", columns=ACTION.columns,
                           iso_times=ACTION.iso_times, paging=Single())
SNAPSHOT = Collection(
    path="/compute/instances/{id}/snapshots",
    columns=("id", "label", "createdBy", "creationDate", "recoveryDate", "expirationDate",
             "description", "changeReference", "size"),
    iso_times=("creationDate", "recoveryDate", "expirationDate"),
    paging=Single(),
)
NETWORK = Collection(path="/compute/instances/{id}/networks",
                     columns=("technicalID", "cidr", "scope", "ipAddress", "dns"),
                     paging=Single())
FILESYSTEM = Collection(columns=("mountingPoint", "type", "sizeOf", "free"))

_INCLUDES = ("networks", "storage", "snapshots")
_FINAL = ("SUCCESS", "ERROR")


class ActionFailed(ApiError):
    """An ITCare action ended in ``ERROR``; ``action`` holds the last Action record."""

    def __init__(self, message: str, *, action: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        self.action = dict(action or {})
        super().__init__(message, **kwargs)


class ActionTimeout(ApiError, TimeoutError):
    """An ITCare action was still running when :meth:`ItcareSession.wait` gave up."""

    def __init__(self, message: str, *, action: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        self.action = dict(action or {})
        super().__init__(message, **kwargs)


def _filters(**values: Any) -> dict[str, str]:
    """Query parameters by filter name (see :data:`INSTANCE`'s filters); ``None`` dropped."""
    return INSTANCE.query(values)


class ItcareSession(Session):
    """A session to the ITCare API, with DataFrame helpers.

    >>> import explorer
    >>> itcare = explorer.connect("itcare", sandbox=True)
    >>> itcare.instances(statuses="ACTIVE", tags={"app": "paie"}, progress=False).shape
    (68, 53)
    """

    # -- compute ----------------------------------------------------------------------------------
    def instances(
        self,
        *,
        names: str | Iterable[str] | None = None,
        types: str | Iterable[str] | None = None,
        families: str | Iterable[str] | None = None,
        environments: str | Iterable[str] | None = None,
        statuses: str | Iterable[str] | None = None,
        tags: str | Mapping[str, str] | Iterable[Any] | None = None,
        services: int | Iterable[int] | None = None,
        az: str | Iterable[str] | None = None,
        ip: str | Iterable[str] | None = None,
        vlan: str | Iterable[str] | None = None,
        backup_status: str | Iterable[str] | None = None,
        recovery_status: str | Iterable[str] | None = None,
        included_in_patch_party: bool | None = None,
        clouds: int | Iterable[int] | None = None,
        sort: str | None = None,
        limit: int | None = None,
        explode: str | None = None,
        progress: bool = True,
        **params: Any,
    ) -> pd.DataFrame:
        """Instances (``GET /compute/instances``), all pages, filtered as documented.

        Lists become comma lists (OR inside a filter, AND across filters); ``names`` takes
        ``!name`` to exclude; ``tags`` takes ``"key:value"``, a list of them or a mapping;
        ``sort="name,desc"``. Columns: :data:`INSTANCE` (``creationTime``,
        ``backup.lastDate``, ``patchParty.patchDate`` as UTC datetimes; ``tags``,
        ``network.dns`` as list columns, e.g. ``explode="tags"``).

        >>> import explorer
        >>> itcare = explorer.connect("itcare", sandbox=True)
        >>> len(itcare.instances(environments="PRODUCTION", families=["DEBIAN", "RHEL"],
        ...                      tags="app:paie", progress=False))
        5
        """
        query = _filters(names=names, types=types, families=families,
                         environments=environments, statuses=statuses, tags=tags,
                         services=services, az=az, ip=ip, vlan=vlan, backup_status=backup_status,
                         recovery_status=recovery_status,
                         included_in_patch_party=included_in_patch_party, clouds=clouds,
                         sort=sort)
        return self.frame("/compute/instances", limit=limit, explode=explode,
                          progress=progress, **query, **params)

    def instance(self, instance_id: int | str,
                 include: bool | str | Iterable[str] = ()) -> pd.Series:
        """One instance (``GET /compute/instances/{id}``) as a Series (dotted names).

        ``include=("networks", "storage", "snapshots")`` (or ``True`` for all) adds the
        sub-resources: ``networks`` and ``snapshots`` as lists of records, ``storage.*`` as
        values (``storage.fileSystems`` a list). See also :meth:`filesystems`,
        :meth:`snapshots`, :meth:`networks` for DataFrames.

        >>> import explorer
        >>> itcare = explorer.connect("itcare", sandbox=True)
        >>> itcare.instance(5300013, include=True)["storage.totalSizeDisks"]
        40
        """
        if include is True:
            wanted: tuple[str, ...] = _INCLUDES
        elif not include:
            wanted = ()
        elif isinstance(include, str):
            wanted = (include,)
        else:
            wanted = tuple(include)
        unknown = [w for w in wanted if w not in _INCLUDES]
        if unknown:
            raise ValueError(f"unknown include {unknown}; use any of {list(_INCLUDES)}")
        base = self.id_path("compute", "instances", instance_id)
        paths = [base] + [f"{base}/{w}" for w in wanted]
        answers = parallel_map(self.get, paths, limiter=self.limiter(), progress=False)
        record = dict(object_of(self, answers[0], base))
        for what, answer in zip(wanted, answers[1:], strict=True):
            record[what] = [] if answer is None and what != "storage" else answer
        return to_series(record, INSTANCE_DETAIL, name=record.get("name"))

    def networks(self, instance_id: int | str) -> pd.DataFrame:
        """Network interfaces of one instance (``…/{id}/networks``), one row each."""
        return self.frame(self.id_path("compute", "instances", instance_id, "networks"),
                          progress=False)

    def filesystems(self, instance_id: int | str) -> pd.DataFrame:
        """File systems of one instance (``…/{id}/storage``): mount point, type, size, free (GB).

        ``attrs`` holds ``totalSizeDisks`` and ``totalSizeFileSystems``.
        """
        path = self.id_path("compute", "instances", instance_id, "storage")
        storage = object_of(self, self.get(path), path)
        systems = storage.get("fileSystems")
        df = to_frame(systems if isinstance(systems, list) else [], FILESYSTEM)
        df.attrs.update({k: v for k, v in storage.items() if k != "fileSystems"})
        return df

    def snapshots(self, instance_id: int | str) -> pd.DataFrame:
        """Snapshots of one instance (``…/{id}/snapshots``; often none: an empty frame)."""
        return self.frame(self.id_path("compute", "instances", instance_id, "snapshots"),
                          progress=False)

    def resources(self, *, limit: int | None = None, progress: bool = True,
                  **filters: Any) -> pd.DataFrame:
        """All resources (``GET /compute/resources``, the generic entry point), all pages.

        Filters as for :meth:`instances`, by their API names (``environments=…``); lists
        become comma lists. Columns: :data:`RESOURCE`.
        """
        return self.frame("/compute/resources", limit=limit, progress=progress,
                          **_filters(**filters))

    def services(self, *, limit: int | None = None, progress: bool = True,
                 **params: Any) -> pd.DataFrame:
        """Services (``GET /compute/services``), all pages. Columns: :data:`SERVICE`."""
        return self.frame("/compute/services", limit=limit, progress=progress,
                          **_filters(**params))

    def service(self, service_id: int | str) -> pd.Series:
        """One service (``GET /compute/services/{id}``)."""
        path = self.id_path("compute", "services", service_id)
        record = object_of(self, self.get(path), path)
        return to_series(record, SERVICE_DETAIL, name=record.get("name"))

    def environments(self, *, progress: bool = False) -> pd.DataFrame:
        """Environments (``GET /compute/environments``). Columns: ``id``, ``name``, ``label``."""
        return self.frame("/compute/environments", progress=progress)

    # -- operations ---------------------------------------------------------------------------
    def actions(
        self,
        *,
        resource_name: str | None = None,
        resource_id: int | None = None,
        service_id: int | None = None,
        statuses: str | Iterable[str] | None = None,
        request_id: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Async actions (``GET /actions``, a bare array). Columns: :data:`ACTION`.

        >>> import explorer
        >>> itcare = explorer.connect("itcare", sandbox=True)
        >>> len(itcare.actions(statuses="ERROR"))
        5
        """
        query = ACTION.query(dict(resource_name=resource_name, resource_id=resource_id,
                                  service_id=service_id, statuses=statuses,
                                  request_id=request_id))
        return self.frame("/actions", limit=limit, progress=False, **query)

    def action(self, action_id: Any) -> pd.Series:
        """One action (``GET /actions/{id}``): ``status`` is SUCCESS, IN_PROGRESS or ERROR.

        ``action_id`` is an id, a 202 acknowledgement (dict or ``requests.Response``) or a row.
        """
        path = self.id_path("actions", _action_id(self, action_id))
        record = object_of(self, self.get(path), path)
        return to_series(record, ACTION_DETAIL, name=record.get("id"))

    def wait(self, action: Any, *, timeout: float = 600.0, interval: float = 2.0,
             progress: bool = True) -> pd.Series:
        """Poll an async action until ``SUCCESS`` (returned) or ``ERROR`` (raised).

        ``action`` is an action id, the 202 answer of ``itcare.request("PATCH", …)`` (the
        ``requests.Response`` or its JSON) or a row of :meth:`actions`. Raises
        :class:`ActionFailed` with the action's message on ``ERROR`` and
        :class:`ActionTimeout` after ``timeout`` seconds. A ``tqdm.auto`` bar shows the status.

        >>> ack = itcare.request("PATCH", itcare.path("compute", "instances", 5350129),
        ...                      json={"operation": "stop"})            # doctest: +SKIP
        >>> itcare.wait(ack, timeout=300)["status"]                     # doctest: +SKIP
        'SUCCESS'

        An action that has already ended returns at once (here one from the sandbox):

        >>> import explorer
        >>> itcare = explorer.connect("itcare", sandbox=True)
        >>> done = itcare.actions(statuses="SUCCESS", limit=1).iloc[0]
        >>> itcare.wait(done, progress=False)["status"]
        'SUCCESS'
        """
        if isinstance(action, requests.Response):
            action = self.decode(action)
        if isinstance(action, Mapping) and action.get("id") is None \
                and action.get("status") in _FINAL:
            return to_series(action, ACTION_DETAIL)  # a dry run: nothing to follow
        aid = _action_id(self, action)
        url = self.id_path("actions", aid)
        deadline = time.monotonic() + timeout
        record: dict[str, Any] = {}
        with progress_bar(None, f"action {aid}", progress) as bar:
            while True:
                record = object_of(self, self.get(url), url)
                status = str(record.get("status") or "")
                if hasattr(bar, "set_postfix_str"):
                    bar.set_postfix_str(status, refresh=False)
                bar.update()
                if status == "SUCCESS":
                    return to_series(record, ACTION_DETAIL, name=record.get("id"))
                if status == "ERROR":
                    words = record.get("message") or "no message"
                    raise ActionFailed(
                        f"action {aid} ({record.get('process', 'operation')} of "
                        f"{record.get('resourceName', '?')}) ended in ERROR: {words}",
                        action=record, status=None, body=record, provider=self.provider,
                        url=self.url(url), redact=self.redact,
                        hint="read the message; the resource may need attention in ITCare")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ActionTimeout(
                        f"action {aid} still {status or 'unknown'} after {timeout:g} s",
                        action=record, body=record, provider=self.provider,
                        url=self.url(url), redact=self.redact,
                        hint=f"wait longer: itcare.wait({aid}, timeout=…)")
                time.sleep(min(interval, left))


_HINTS = {
    401: "the token was refused; check ITCARE_CLIENT_ID / ITCARE_CLIENT_SECRET",
    403: "this API account's profile lacks the privilege for this operation; ask your "
         "ITCare organisation administrator",
    404: "no such resource, or this account cannot see it (check the id)",
    409: "conflict: the resource is in the wrong state or an action is already running on "
         "it (itcare.actions(resource_id=…))",
    422: "the data is inconsistent; check the request body",
}


def _action_id(session: Session, action: Any) -> Any:
    """The id of an action given as an id, a mapping (202 body, record) or a Series row
    (a response is decoded like any answer: bounded, typed errors)."""
    if isinstance(action, requests.Response):
        action = session.decode(action)
    if isinstance(action, (Mapping, pd.Series)):
        value = action.get("id")
        if value is None:
            raise ValueError("this action has no id (a dry run is not followed)")
        return value
    if action is None or isinstance(action, bool):
        raise ValueError(f"not an action id: {action!r}")
    return action


PROVIDER = Provider(
    name="itcare",
    title="cegedim.cloud ITCare API",
    grant="client_credentials",
    urls={
        "base_url": "https://itcare.cegedim.cloud/itcare",
        "token_url": "https://accounts.cegedim.cloud/auth/realms/cloud/protocol/openid-connect/token",
    },
    auth_method="client_secret_basic",
    fields=(
        Field("client_id", env="ITCARE_CLIENT_ID", required=True),
        Field("client_secret", env="ITCARE_CLIENT_SECRET", secret=True, required=True),
    ),
    errors=ErrorWords(code_key="errorCode", field_key="errorDesc",
                      empty="ITCare gives no details: empty body", hints=_HINTS),
    collections=(INSTANCE, INSTANCE_DETAIL, RESOURCE, SERVICE, SERVICE_DETAIL, ENVIRONMENT,
                 ACTION, ACTION_DETAIL, SNAPSHOT, NETWORK),
    #: ITCare lists are Spring pages; 200 a page (the size public clients use).
    paging=SpringPages(200),
    signup="ask cegedim.cloud support for an API account",
    session_class=ItcareSession,
)
