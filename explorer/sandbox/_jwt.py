"""Token values the sandbox's servers issue: RS256-signed JWTs (Keycloak, IdentityServer) with
their JWKS, and FOSOAuth-style opaque tokens (Jindexe).

>>> token = make_jwt("icd", {"sub": "x"})
>>> token.count("."), jwk("icd")["alg"]
(2, 'RS256')
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["fos_token", "jwk", "make_jwt", "signing_key"]

_KEYS: dict[str, tuple[rsa.RSAPrivateKey, str]] = {}
_KEYS_LOCK = threading.Lock()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signing_key(issuer: str) -> tuple[rsa.RSAPrivateKey, str]:
    """The (private key, kid) of an issuer; generated once per process."""
    with _KEYS_LOCK:
        if issuer not in _KEYS:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            der = key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            _KEYS[issuer] = (key, _b64url(hashlib.sha256(der).digest()))
        return _KEYS[issuer]


def jwk(issuer: str) -> dict[str, str]:
    """Public JWK of an issuer's signing key."""
    key, kid = signing_key(issuer)
    nums = key.public_key().public_numbers()

    def enc(n: int) -> str:
        return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

    return {"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig",
            "n": enc(nums.n), "e": enc(nums.e)}


def make_jwt(issuer: str, claims: dict[str, Any], typ: str = "JWT") -> str:
    """RS256-sign ``claims`` with the issuer's key."""
    key, kid = signing_key(issuer)
    header = {"alg": "RS256", "typ": typ, "kid": kid}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    sig = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(sig)}"


def fos_token() -> str:
    """FOSOAuth-style opaque token: base64url of a 64-hex-char string."""
    return _b64url(hashlib.sha256(secrets.token_bytes(32)).hexdigest().encode("ascii"))
