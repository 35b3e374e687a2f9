"""Encryption of stored secrets (variable values) with AES-256-GCM.

Two key sources behind one `Encryptor` protocol:
- `LocalEncryptor`: one key in a local file (created 0600 on first use) for `flowless run`.
- `KmsEncryptor`: envelope encryption, a KMS data key per value (`FLOWLESS_KMS_KEY_ID`).
The context (tenant, variable id) is bound to every ciphertext as associated data, so a value
copied to another tenant's item does not decrypt.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from flowless.settings import Settings

_LOCAL = b"L1"  # format tags: which encryptor wrote a blob
_KMS = b"K1"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    code = "DECRYPTION_FAILED"


class Encryptor(Protocol):
    def encrypt(self, plaintext: bytes, context: Mapping[str, str]) -> bytes: ...

    def decrypt(self, blob: bytes, context: Mapping[str, str]) -> bytes: ...


def _aad(context: Mapping[str, str]) -> bytes:
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()


def _aesgcm(key: bytes) -> Any:
    # cryptography's bindings cost ~50 ms to import: paid by the first secret used, not by every
    # cold start (a run whose flow reads no variable never needs them).
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _seal(key: bytes, plaintext: bytes, context: Mapping[str, str]) -> bytes:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return nonce + _aesgcm(key).encrypt(nonce, plaintext, _aad(context))


def _open(key: bytes, sealed: bytes, context: Mapping[str, str]) -> bytes:
    try:
        return _aesgcm(key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _aad(context))
    except Exception as error:  # InvalidTag: wrong key, wrong context or tampered data
        raise DecryptionError("stored secret could not be decrypted") from error


class LocalEncryptor:
    def __init__(self, key_file: str | Path) -> None:
        self.key_file = Path(key_file)
        self._key: bytes | None = None

    def encrypt(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        return _LOCAL + _seal(self._load_key(), plaintext, context)

    def decrypt(self, blob: bytes, context: Mapping[str, str]) -> bytes:
        if not blob.startswith(_LOCAL):
            raise DecryptionError("secret was not encrypted with the local key (configure FLOWLESS_KMS_KEY_ID?)")
        return _open(self._load_key(), blob[len(_LOCAL) :], context)

    def _load_key(self) -> bytes:
        if self._key is None:
            self._key = self._read_or_create()
        return self._key

    def _read_or_create(self) -> bytes:
        self.key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            # O_EXCL: if two processes start together, exactly one writes the key.
            fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return base64.urlsafe_b64decode(self.key_file.read_text().strip())
        key = secrets.token_bytes(32)  # AES-256, as AESGCM.generate_key(bit_length=256) makes it
        with os.fdopen(fd, "w") as out:
            out.write(base64.urlsafe_b64encode(key).decode() + "\n")
        return key


class KmsEncryptor:
    """Envelope encryption: blob = tag | len(wrapped key) | wrapped data key | nonce | ciphertext."""

    def __init__(self, key_id: str, *, client: Any = None, region: str | None = None, cache_size: int = 256) -> None:
        self.key_id = key_id
        self.region = region
        self._kms = client
        # Unwrapped data keys of a warm container, so reading a variable again costs no KMS call.
        self._keys: OrderedDict[tuple[bytes, bytes], bytes] = OrderedDict()
        self._cache_size = cache_size

    def encrypt(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        data_key = self._client.generate_data_key(KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=dict(context))
        wrapped: bytes = data_key["CiphertextBlob"]
        return _KMS + len(wrapped).to_bytes(2, "big") + wrapped + _seal(data_key["Plaintext"], plaintext, context)

    def decrypt(self, blob: bytes, context: Mapping[str, str]) -> bytes:
        if not blob.startswith(_KMS):
            raise DecryptionError("secret was not encrypted with KMS (written by a local run?)")
        size = int.from_bytes(blob[2:4], "big")
        wrapped, sealed = blob[4 : 4 + size], blob[4 + size :]
        return _open(self._data_key(wrapped, context), sealed, context)

    @property
    def _client(self) -> Any:
        """The KMS client, made by the first secret encrypted or decrypted: a run that reads no
        variable (and every cold start) skips boto3's import and the client's creation."""
        if self._kms is None:
            import boto3

            self._kms = boto3.client("kms", region_name=self.region)
        return self._kms

    def _data_key(self, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        from botocore.exceptions import ClientError

        cache_key = (wrapped, _aad(context))
        if cache_key in self._keys:
            self._keys.move_to_end(cache_key)
            return self._keys[cache_key]
        try:
            key: bytes = self._client.decrypt(CiphertextBlob=wrapped, EncryptionContext=dict(context))["Plaintext"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "InvalidCiphertextException":
                raise
            raise DecryptionError("stored secret could not be decrypted (wrong KMS key or context)") from error
        self._keys[cache_key] = key
        if len(self._keys) > self._cache_size:
            self._keys.popitem(last=False)
        return key


_encryptors: dict[Settings, Encryptor] = {}


def get_encryptor(settings: Settings) -> Encryptor:
    """KMS when `kms_key_id` is set, else the local key file; one instance per settings."""
    if settings not in _encryptors:
        _encryptors[settings] = (
            KmsEncryptor(settings.kms_key_id, region=settings.region)
            if settings.kms_key_id
            else LocalEncryptor(settings.local_key_file)
        )
    return _encryptors[settings]
