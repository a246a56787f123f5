"""Registered API keys, and OCI's request signatures (draft-cavage) checked against them.

``cryptography`` is imported only here and only once a key is registered or a signature checked,
so an emulator that verifies nothing runs on the standard library alone.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any


class ApiKeys:
    """Public keys by ``keyId`` (``<tenancy>/<user>/<fingerprint>``). While none is registered,
    any ``authorization`` value passes; afterwards a request must be signed by one of them."""

    def __init__(self) -> None:
        self._keys: dict[str, Any] = {}

    def register(self, key_id: str, public_key_pem: str | bytes) -> None:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        # Replaced, not mutated: handler threads read the dict without a lock.
        self._keys = {**self._keys, key_id: load_pem_public_key(pem)}

    def verifies(self, method: str, target: str, headers: Mapping[str, str]) -> bool:
        """True when no key is registered, or the request's HTTP signature (draft-cavage, as
        the SDK's signer writes it) verifies with the registered key its ``keyId`` names.

        ``method`` is the request's verb and ``target`` its path with the query string.
        """
        keys = self._keys
        if not keys:
            return True
        auth = headers.get("authorization", "")
        params = dict(re.findall(r'(\w+)="([^"]*)"', auth))
        key = keys.get(params.get("keyId", ""))
        if not auth.startswith("Signature ") or key is None:
            return False
        if params.get("algorithm") != "rsa-sha256":
            return False
        lines = []
        for name in params.get("headers", "date").split():
            if name == "(request-target)":
                lines.append(f"(request-target): {method.lower()} {target}")
            elif headers.get(name) is None:
                return False
            else:
                lines.append(f"{name}: {headers[name]}")
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            signature = base64.b64decode(params.get("signature", ""), validate=True)
            key.verify(signature, "\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True
