"""ITCare-shaped instance records for the frame benchmark (apis.md §1.7 shape, invented values)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

FAMILIES = {"LINUX": ["DEBIAN", "RHEL", "CENTOS", "UBUNTU", "ORACLE"], "WINDOWS": ["WINDOWS"]}
ENVIRONMENTS = ["PRODUCTION", "DEVELOPMENT", "QA", "TEST"]


def instance_records(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` instance records shaped like ITCare's ``GET /compute/instances`` content."""
    rng = random.Random(seed)
    start = datetime(2020, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    out = []
    for i in range(n):
        kind = "LINUX" if rng.random() < 0.8 else "WINDOWS"
        family = rng.choice(FAMILIES[kind])
        env = rng.choice(ENVIRONMENTS)
        service = rng.randrange(1, 41)
        created = start + timedelta(minutes=rng.randrange(0, 3_000_000))
        ip = f"10.59.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        az = rng.choice(["EB-A", "EB-B", "EB-C"])
        out.append({
            "id": 5_000_000 + i, "internalResourceId": 100 + i, "name": f"PEBCNRS{i:06d}",
            "path": "/compute/instances", "category": "INSTANCE", "resourceType": "INSTANCE",
            "type": kind, "family": family, "status": rng.choice(["ACTIVE", "INACTIVE"]),
            "environment": env, "serviceId": service, "serviceKey": f"SVC-{service}",
            "serviceName": f"Service {service}", "cloudId": 1, "cloudName": "My cloud",
            "productName": f"{family.title()} 12", "supportLevel": "GOLD",
            "supportPhase": "MAINSTREAM",
            "creationTime": created.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "creationUser": "john.doe", "comment": None, "ipAddress": ip,
            "cpu": rng.choice([1, 2, 4, 8]), "ram": rng.choice([2, 4, 8, 16]),
            "totalSizeDisks": str(rng.choice([40, 60, 120])), "labelRegion": "EB",
            "labelDatacenter": "EB1", "labelArea": "EB-HDS", "labelAvailabilityZone": az,
            "availabilityZone": az, "area": "EB-HDS", "region": "EB",
            "network": {"technicalID": f"EB_{rng.randrange(1000, 2000)}_DMZ8",
                        "cidr": ip.rsplit(".", 1)[0] + ".0/24", "scope": "PRIVATE",
                        "ipAddress": ip,
                        "dns": [{"alias": f"web{i}", "domain": "example.local"}]},
            "backup": {"backupSystem": "NETWORKER", "size": rng.randrange(0, 500),
                       "type": "FULL",
                       "lastDate": (created + timedelta(days=30)).strftime(
                           "%Y-%m-%dT%H:%M:%S%z")},
            "backupPolicyDetails": {"backups": [], "policies": []},
            "patchParty": {"excluded": False, "exclusionReason": None, "patchGroup": "G1",
                           "patchDate": (created + timedelta(days=60)).strftime(
                               "%Y-%m-%dT%H:%M:%S%z"), "patchTag": "2024-Q1"},
            "tags": [{"key": "app", "value": rng.choice(["web", "db", "batch"])}],
            "loadbalancers": [], "isMemberOFLoadBalancer": False, "replication": None,
        })
    return out
