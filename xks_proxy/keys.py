"""Key custodian commands: create, list, disable, enable AES-256 keys in the HSM.

These are run by the French key custodian with the HSM PIN, not by the AWS-side platform team.
Disabling clears CKA_ENCRYPT and CKA_DECRYPT on the key, so the HSM itself refuses to use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11 import exceptions as p11e

from .config import KEY_ID_RE, HsmConfig
from .hsm import KeyInfo, key_template, open_token, read_key_info


class KeyCommandError(Exception):
    """A custodian command cannot be carried out; the message says why."""


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    info: KeyInfo

    @property
    def status(self) -> str:
        if not self.info.is_aes_256:
            return "NOT-AES-256"
        if not self.info.protected:
            return "UNPROTECTED(extractable)"
        return "ENABLED" if self.info.enabled else "DISABLED"

    @property
    def usage(self) -> str:
        parts = [
            u for u, ok in (("ENCRYPT", self.info.can_encrypt), ("DECRYPT", self.info.can_decrypt)) if ok
        ]
        return ",".join(parts) or "-"


def parse_usage(value: str) -> tuple[bool, bool]:
    parts = {p.strip().lower() for p in value.split(",") if p.strip()}
    if not parts or not parts <= {"encrypt", "decrypt"}:
        raise KeyCommandError(f"--usage: one or both of encrypt,decrypt (comma-separated), got {value!r}")
    return "encrypt" in parts, "decrypt" in parts


class KeyCustodian:
    def __init__(self, cfg: HsmConfig) -> None:
        try:
            _, token = open_token(str(cfg.module), cfg.token_label, cfg.slot)
            self.session: Any = token.open(user_pin=cfg.pin, rw=True)
        except p11e.PinIncorrect:
            raise KeyCommandError("HSM login failed: the PIN is incorrect") from None
        except p11e.PKCS11Error as exc:
            raise KeyCommandError(f"cannot open the HSM token: {type(exc).__name__}") from None

    def close(self) -> None:
        self.session.close()

    def _find(self, key_id: str) -> Any:
        if not KEY_ID_RE.match(key_id):
            raise KeyCommandError(f"key id {key_id!r}: 1-128 characters of A-Z a-z 0-9 . - _")
        try:
            return self.session.get_key(object_class=ObjectClass.SECRET_KEY, label=key_id)
        except p11e.NoSuchKey:
            raise KeyCommandError(f"no secret key labelled {key_id!r} in the HSM") from None
        except p11e.MultipleObjectsReturned:
            raise KeyCommandError(
                f"several secret keys are labelled {key_id!r}; fix the token first"
            ) from None

    def create(self, key_id: str, encrypt: bool = True, decrypt: bool = True) -> KeyRow:
        if not KEY_ID_RE.match(key_id):
            raise KeyCommandError(f"key id {key_id!r}: 1-128 characters of A-Z a-z 0-9 . - _")
        try:
            self.session.get_key(object_class=ObjectClass.SECRET_KEY, label=key_id)
        except p11e.NoSuchKey:
            pass
        except p11e.MultipleObjectsReturned:
            raise KeyCommandError(f"a key labelled {key_id!r} already exists") from None
        else:
            raise KeyCommandError(f"a key labelled {key_id!r} already exists")
        key = self.session.generate_key(
            KeyType.AES,
            256,
            label=key_id,
            id=key_id.encode(),
            store=True,
            template=key_template(encrypt, decrypt),
        )
        return KeyRow(key_id, read_key_info(key_id, key))

    def list(self) -> list[KeyRow]:
        rows = []
        for obj in self.session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
            label = obj[Attribute.LABEL]
            rows.append(KeyRow(label, read_key_info(label, obj)))
        return sorted(rows, key=lambda r: r.key_id)

    def set_usage(self, key_id: str, encrypt: bool, decrypt: bool) -> KeyRow:
        key = self._find(key_id)
        try:
            key[Attribute.ENCRYPT] = encrypt
            key[Attribute.DECRYPT] = decrypt
        except (p11e.AttributeReadOnly, p11e.PKCS11Error) as exc:
            raise KeyCommandError(f"the HSM refused to change key {key_id!r}: {type(exc).__name__}") from None
        return KeyRow(key_id, read_key_info(key_id, key))

    def disable(self, key_id: str) -> KeyRow:
        return self.set_usage(key_id, False, False)

    def enable(self, key_id: str, encrypt: bool = True, decrypt: bool = True) -> KeyRow:
        return self.set_usage(key_id, encrypt, decrypt)
