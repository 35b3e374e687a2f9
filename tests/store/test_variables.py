from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import boto3
import pytest
from flowless.settings import Settings
from flowless.store.crypto import DecryptionError, KmsEncryptor, LocalEncryptor, get_encryptor
from flowless.store.errors import Conflict, NotFound
from flowless.store.models import VariableItem
from flowless.store.variables import TenantVariableResolver, VariableRepository
from moto import mock_aws

CONTEXT = {"tenant": "t", "variable_id": "v"}


@pytest.fixture
def variables(ddb: Settings) -> VariableRepository:
    return VariableRepository("tenant-a")


def test_crud(variables: VariableRepository) -> None:
    created = variables.create("OPENAI_API_KEY", "sk-secret", type="Credential", default_fields=["api_key"])
    assert variables.get("OPENAI_API_KEY") == created
    assert variables.get_by_id(created.id) == created
    assert [v.name for v in variables.list()] == ["OPENAI_API_KEY"]
    assert variables.list(include_values=False)[0].value is None
    renamed = variables.update(created.id, name="OPENAI_KEY", value="sk-new")
    assert (renamed.name, renamed.value, renamed.type, renamed.default_fields) == (
        "OPENAI_KEY",
        "sk-new",
        "Credential",
        ["api_key"],
    )
    assert variables.get("OPENAI_API_KEY") is None and variables.get("OPENAI_KEY") == renamed
    assert variables.update(created.id, type="Generic").value == "sk-new"
    variables.delete(created.id)
    assert variables.list() == []
    with pytest.raises(NotFound):
        variables.delete(created.id)
    with pytest.raises(NotFound):
        variables.update(created.id, value="x")


def test_names_are_unique(variables: VariableRepository) -> None:
    variables.create("A", "1")
    other = variables.create("B", "2")
    with pytest.raises(Conflict):
        variables.create("A", "again")
    with pytest.raises(Conflict):
        variables.update(other.id, name="A")
    assert variables.get("B").value == "2"
    with pytest.raises(ValueError):
        variables.create("C", "3", type="Secret")


def test_values_are_encrypted_at_rest(variables: VariableRepository) -> None:
    variables.create("TOKEN", "plain-secret-value")
    stored = VariableItem.get("tenant-a", "TOKEN").value
    assert isinstance(stored, bytes) and b"plain-secret-value" not in stored


def test_ciphertext_is_bound_to_its_tenant(variables: VariableRepository) -> None:
    variables.create("TOKEN", "secret")
    item = VariableItem.get("tenant-a", "TOKEN")
    VariableItem(**{**item.attribute_values, "tenant": "tenant-b"}).save()  # ciphertext copied as is
    with pytest.raises(DecryptionError):
        VariableRepository("tenant-b").get("TOKEN")


def test_other_tenants_variables_are_invisible(variables: VariableRepository) -> None:
    mine = variables.create("TOKEN", "secret")
    other = VariableRepository("tenant-b")
    assert other.get("TOKEN") is None and other.get_by_id(mine.id) is None and other.list() == []
    with pytest.raises(NotFound):
        other.delete(mine.id)


async def test_resolver_decrypts_and_caches(variables: VariableRepository, ddb_calls: list[str]) -> None:
    variables.create("TOKEN", "secret")
    resolver = TenantVariableResolver("tenant-a")
    ddb_calls.clear()
    assert await resolver.get("TOKEN") == "secret"
    assert await resolver.get("TOKEN") == "secret"
    assert await resolver.get("MISSING") is None
    assert await resolver.get("MISSING") is None
    assert ddb_calls == ["GetItem", "GetItem"]


def test_local_key_file_is_created_private(tmp_path: Path) -> None:
    key_file = tmp_path / "nested" / "local.key"
    encryptor = LocalEncryptor(key_file)
    blob = encryptor.encrypt(b"value", CONTEXT)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert LocalEncryptor(key_file).decrypt(blob, CONTEXT) == b"value"  # the key persists
    with pytest.raises(DecryptionError):
        encryptor.decrypt(blob, {**CONTEXT, "tenant": "other"})
    with pytest.raises(DecryptionError):
        LocalEncryptor(tmp_path / "another.key").decrypt(blob, CONTEXT)


def test_kms_envelope_encryption(aws_env: None) -> None:
    with mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        key_id = client.create_key()["KeyMetadata"]["KeyId"]
        encryptor = KmsEncryptor(key_id, client=client)
        blob = encryptor.encrypt(b"value", CONTEXT)
        assert b"value" not in blob
        fresh = KmsEncryptor(key_id, client=client)
        assert fresh.decrypt(blob, CONTEXT) == b"value"
        with pytest.raises(DecryptionError):
            KmsEncryptor(key_id, client=client).decrypt(blob, {**CONTEXT, "tenant": "other"})
        with pytest.raises(DecryptionError):
            LocalEncryptor("/nonexistent/never-created.key").decrypt(blob, CONTEXT)


def test_kms_data_keys_are_cached(aws_env: None) -> None:
    class CountingKms:
        def __init__(self, real) -> None:  # noqa: ANN001
            self.real, self.decrypts = real, 0

        def generate_data_key(self, **kwargs):  # noqa: ANN003, ANN201
            return self.real.generate_data_key(**kwargs)

        def decrypt(self, **kwargs):  # noqa: ANN003, ANN201
            self.decrypts += 1
            return self.real.decrypt(**kwargs)

    with mock_aws():
        real = boto3.client("kms", region_name="us-east-1")
        counting = CountingKms(real)
        encryptor = KmsEncryptor(real.create_key()["KeyMetadata"]["KeyId"], client=counting)
        blob = encryptor.encrypt(b"value", CONTEXT)
        for _ in range(3):
            assert encryptor.decrypt(blob, CONTEXT) == b"value"
        assert counting.decrypts == 1


def test_encryptor_choice(ddb: Settings) -> None:
    assert isinstance(get_encryptor(ddb), LocalEncryptor)
    with mock_aws():
        assert isinstance(get_encryptor(dataclasses.replace(ddb, kms_key_id="alias/x")), KmsEncryptor)
