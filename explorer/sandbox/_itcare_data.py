"""Seeded ITCare data: 40 services, 2,500 instances, a few dozen past actions.

Example:
    >>> from explorer.sandbox._itcare_data import generate
    >>> data = generate(0)
    >>> len(data.instances), len(data.services)
    (2500, 40)

Emulator choices:
    * instance names follow the real pattern ``<env letter><region><service code><role><nn>``
      (e.g. ``PEBCNRSWEB01``); ids are increasing integers from 5,300,000.
    * ``network.technicalID`` holds the VLAN name (``EB_1125_DMZ8``), used by the ``vlan``
      filter; ``backup.status`` (``SUCCESS``/``FAILED``/``NONE``) is used by ``backupStatus``.
    * type is ``LINUX`` for Debian/CentOS/RHEL/Ubuntu/Oracle, ``WINDOWS`` and ``AIX`` otherwise.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from explorer.sandbox._data import ANCHOR, iso_offset, iso_z

__all__ = ["ENVIRONMENTS", "FAMILIES", "ItcareData", "action", "generate"]

ENVIRONMENTS = ("PRODUCTION", "QA", "DEVELOPMENT", "TEST")
FAMILIES = {
    "DEBIAN": ("LINUX", ("Debian 11", "Debian 12")),
    "CENTOS": ("LINUX", ("CentOS 7",)),
    "RHEL": ("LINUX", ("RHEL 8", "RHEL 9")),
    "UBUNTU": ("LINUX", ("Ubuntu 20.04", "Ubuntu 22.04")),
    "ORACLE": ("LINUX", ("Oracle Linux 8",)),
    "WINDOWS": ("WINDOWS", ("Windows Server 2019", "Windows Server 2022")),
    "AIX": ("AIX", ("AIX 7.2",)),
}
_FAMILY_WEIGHTS = (30, 8, 20, 12, 5, 20, 5)
_ENV_WEIGHTS = (35, 20, 25, 20)
_SERVICE_WORDS = (
    "Dossier Patient", "Facturation", "Portail RH", "Paie", "Pharmacie", "Logistique",
    "Data Lake", "CRM", "Messagerie", "Annuaire", "Tiers Payant", "Imagerie", "Archivage",
    "Reporting", "Agenda", "Teleconsultation", "Prescription", "Laboratoire", "Mutuelle",
    "Assurance",
)
_ROLES = ("WEB", "APP", "DB", "BAT", "MQ", "ES", "FTP", "API")
_ZONES = ("DMZ8", "BACK2", "ADM1", "FRONT3")
_AZ = ("EB-A", "EB-B", "EB-C", "ET-A", "ET-B")
_USERS = ("john.doe", "marie.curie", "paul.martin", "sophie.bernard", "api-sandbox")
_PROCESSES = ("STOP_INSTANCE", "START_INSTANCE", "RESET_INSTANCE", "CREATE_SNAPSHOT")


@dataclass
class ItcareData:
    services: list[dict[str, Any]]
    instances: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    extra: dict[int, dict[str, Any]] = field(default_factory=dict)  # storage, snapshots


def _services(rng: random.Random) -> list[dict[str, Any]]:
    out, used = [], set()
    for i in range(40):
        word = _SERVICE_WORDS[i % len(_SERVICE_WORDS)]
        name = word if i < len(_SERVICE_WORDS) else f"{word} {i // len(_SERVICE_WORDS) + 1}"
        code = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(4))
        while code in used:
            code = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(4))
        used.add(code)
        sid = 100 + i * 7 + rng.randrange(7)
        out.append({
            "id": sid, "key": f"SVC-{sid}", "name": name, "code": code,
            "description": f"Service {name}", "status": "ACTIVE",
            "organisationName": "Sandbox Organisation",
            "creationTime": iso_offset(ANCHOR - rng.randrange(300, 3000) * 86400),
        })
    return out


def _instance(rng: random.Random, iid: int, svc: dict[str, Any], name: str, env: str,
              family: str, az: str) -> dict[str, Any]:
    typ, products = FAMILIES[family]
    region = az[:2]
    net_a, net_b = rng.randrange(10, 250), rng.randrange(0, 255)
    ip = f"10.{net_a}.{net_b}.{rng.randrange(2, 254)}"
    vlan = f"{region}_{1000 + net_b}_{rng.choice(_ZONES)}"
    created = ANCHOR - rng.randrange(30, 3000) * 86400 - rng.randrange(86400)
    backed = rng.random()
    excluded = rng.random() < 0.1
    tags = [{"key": "app", "value": svc["name"].lower().replace(" ", "-")},
            {"key": "owner", "value": rng.choice(_USERS)}]
    if rng.random() < 0.5:
        tags.append({"key": "costcenter", "value": f"CC-{rng.randrange(100, 999)}"})
    disks = rng.choice((40, 60, 80, 120, 200, 500))
    return {
        "id": iid, "internalResourceId": iid - 5_000_000, "name": name,
        "path": "/compute/instances", "category": "INSTANCE", "resourceType": "INSTANCE",
        "type": typ, "family": family,
        "status": "ACTIVE" if rng.random() < 0.9 else "INACTIVE", "environment": env,
        "serviceId": svc["id"], "serviceKey": svc["key"], "serviceName": svc["name"],
        "cloudId": 1 if region == "EB" else 2,
        "cloudName": f"cegedim.cloud {region}", "productName": rng.choice(products),
        "supportLevel": rng.choice(("STANDARD", "PREMIUM")),
        "supportPhase": rng.choice(("RUN", "BUILD")),
        "creationTime": iso_offset(created), "creationUser": rng.choice(_USERS),
        "comment": None, "ipAddress": ip, "cpu": rng.choice((1, 2, 4, 8, 16)),
        "ram": rng.choice((2, 4, 8, 16, 32, 64)), "totalSizeDisks": str(disks),
        "labelRegion": region, "labelDatacenter": f"{region}-DC{1 + rng.randrange(2)}",
        "labelArea": f"{region}-{env[:4]}", "labelAvailabilityZone": az,
        "availabilityZone": az, "area": f"{region}-{env[:4]}", "region": region,
        "network": {
            "technicalID": vlan, "cidr": f"10.{net_a}.{net_b}.0/24",
            "scope": "DMZ" if "DMZ" in vlan else "PRIVATE", "ipAddress": ip,
            "dns": [{"alias": name.lower(), "domain": f"{env.lower()}.sandbox.cegedim.local"}],
        },
        "backup": {
            "backupSystem": rng.choice(("NETWORKER", "COMMVAULT")),
            "size": disks // 2 if backed < 0.9 else 0,
            "type": "FULL" if rng.random() < 0.3 else "INCREMENTAL",
            "lastDate": iso_offset(ANCHOR - rng.randrange(86400 * 3)) if backed < 0.9 else None,
            "status": "SUCCESS" if backed < 0.8 else "FAILED" if backed < 0.9 else "NONE",
        },
        "backupPolicyDetails": {"backups": [], "policies": []},
        "patchParty": {
            "excluded": excluded,
            "exclusionReason": "Application freeze" if excluded else None,
            "patchGroup": f"G{1 + rng.randrange(4)}",
            "patchDate": iso_offset(ANCHOR + rng.randrange(1, 30) * 86400),
            "patchTag": f"PP-2025-W{27 + rng.randrange(4)}",
        },
        "tags": tags, "loadbalancers": [], "isMemberOFLoadBalancer": False,
        "replication": None,
    }


def _storage(rng: random.Random, inst: dict[str, Any]) -> dict[str, Any]:
    total = int(inst["totalSizeDisks"])
    if inst["type"] == "WINDOWS":
        mounts = [("C:", "NTFS"), ("D:", "NTFS")]
    else:
        mounts = [("/", "ext4"), ("/var", "ext4"), ("/data", "xfs")]
    share = total // (len(mounts) + 1)
    fss = [{"mountingPoint": m, "type": t, "sizeOf": share,
            "free": rng.randrange(1, max(2, share))} for m, t in mounts]
    return {"totalSizeDisks": total, "fileSystems": fss,
            "totalSizeFileSystems": sum(f["sizeOf"] for f in fss)}


def _snapshots(rng: random.Random, inst: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for n in range(rng.choice((0, 0, 0, 1, 2))):
        created = ANCHOR - rng.randrange(1, 20) * 86400
        out.append({
            "id": f"{inst['id']}-snap-{n + 1}", "label": f"before-patch-{n + 1}",
            "createdBy": "Sandbox User", "creationDate": iso_offset(created),
            "recoveryDate": None, "expirationDate": iso_offset(created + 7 * 86400),
            "description": "Snapshot before patch party", "changeReference": f"RFC_{n + 100}",
            "size": int(inst["totalSizeDisks"]),
        })
    return out


def action(aid: int, inst: dict[str, Any], process: str, status: str, message: str,
           submitted: float, completed: float | None, user: str) -> dict[str, Any]:
    """An Action record (keys of the GitBook example plus ids used by the filters)."""
    return {
        "completedAt": iso_z(completed, millis=True) if completed else None,
        "family": inst["family"], "id": aid,
        "lastUpdatedAt": iso_z(completed or submitted, millis=True), "message": message,
        "process": process, "resourceName": inst["name"], "resourceType": "INSTANCE",
        "status": status, "submittedAt": iso_z(submitted, millis=True), "submittedBy": user,
        "resourceId": inst["id"], "serviceId": inst["serviceId"],
        "requestId": str(uuid.UUID(int=aid * 7919 + inst["id"], version=4)),
    }


def generate(seed: int) -> ItcareData:
    """The full ITCare data set for ``seed``."""
    rng = random.Random(f"{seed}:itcare")
    services = _services(rng)
    instances: list[dict[str, Any]] = []
    counters: dict[str, int] = {}
    iid = 5_300_000
    for _ in range(2500):
        iid += rng.randrange(1, 40)
        svc = rng.choice(services)
        env = rng.choices(ENVIRONMENTS, _ENV_WEIGHTS)[0]
        family = rng.choices(tuple(FAMILIES), _FAMILY_WEIGHTS)[0]
        az = rng.choice(_AZ)
        prefix = f"{env[0]}{az[:2]}{svc['code']}{rng.choice(_ROLES)}"
        counters[prefix] = counters.get(prefix, 0) + 1
        name = f"{prefix}{counters[prefix]:02d}"
        instances.append(_instance(rng, iid, svc, name, env, family, az))
    data = ItcareData(services, instances, [])
    data.by_id = {i["id"]: i for i in instances}
    for inst in instances:
        data.extra[inst["id"]] = {"storage": _storage(rng, inst),
                                  "snapshots": _snapshots(rng, inst)}
    for n in range(48):
        inst = rng.choice(instances)
        submitted = ANCHOR - rng.randrange(1, 60) * 86400 - rng.randrange(86400)
        ok = rng.random() < 0.85
        data.actions.append(action(
            900_000 + n, inst, rng.choice(_PROCESSES), "SUCCESS" if ok else "ERROR",
            "Action completed successfully" if ok else "Action failed: timeout",
            submitted, submitted + rng.randrange(20, 600), rng.choice(_USERS)))
    for svc in services:
        envs = sorted({i["environment"] for i in instances if i["serviceId"] == svc["id"]})
        svc["environments"] = envs
        svc["instanceCount"] = sum(1 for i in instances if i["serviceId"] == svc["id"])
    return data
