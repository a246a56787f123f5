"""A throwaway OCI config file for talking to the emulator with the real SDK.

The SDK's default signer loads a real RSA private key when the client is constructed (the
emulator verifies signatures only for keys registered with ``register_api_key``), so tests and
the demo write a fresh key and a ``DEFAULT`` profile. Never use it for a real tenancy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import oci
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FAKE_TENANCY = "ocid1.tenancy.oc1..aaaaaaaaemulatortenancy5mzq7wv3s2vkx4n6bq2pl3xj7o4fk5rcd"
FAKE_USER = "ocid1.user.oc1..aaaaaaaaemulatoruser4m2q7wv3s2vkx4n6bq2pl3xj7o4fk5rcdxyz"


@dataclass(frozen=True)
class ApiKeyPair:
    """A throwaway API signing key: what OCI's Console would show, and the private PEM."""

    private_pem: str = field(repr=False)
    public_pem: str
    fingerprint: str


def make_api_key(pass_phrase: str | None = None) -> ApiKeyPair:
    # 2048 bits: the smallest size the SDK's signer accepts without complaint.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (
        serialization.BestAvailableEncryption(pass_phrase.encode())
        if pass_phrase
        else serialization.NoEncryption()
    )
    public = key.public_key()
    digest = hashlib.md5(
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).hexdigest()
    return ApiKeyPair(
        private_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        ).decode(),
        public_pem=public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode(),
        fingerprint=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
    )


def make_oci_config(
    tmp_dir: Path,
    region: str = "us-ashburn-1",
    *,
    key: ApiKeyPair | None = None,
    user: str = FAKE_USER,
    tenancy: str = FAKE_TENANCY,
    pass_phrase: str | None = None,
) -> tuple[Path, dict]:
    """Write a key (a fresh one unless given) and a ``DEFAULT`` profile under ``tmp_dir``, with
    ``pass_phrase=`` for an encrypted key as the OCI CLI writes it; return (path, config)."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    key = key or make_api_key(pass_phrase)
    key_file = tmp_dir / "oci_api_key.pem"
    key_file.write_text(key.private_pem)
    key_file.chmod(0o600)
    config_file = tmp_dir / "oci_config"
    config_file.write_text(
        "[DEFAULT]\n"
        f"user={user}\n"
        f"fingerprint={key.fingerprint}\n"
        f"tenancy={tenancy}\n"
        f"region={region}\n"
        f"key_file={key_file}\n" + (f"pass_phrase={pass_phrase}\n" if pass_phrase else ""),
        encoding="utf-8",
    )
    config = oci.config.from_file(str(config_file), "DEFAULT")
    oci.config.validate_config(config)
    return config_file, config
