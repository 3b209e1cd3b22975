"""Key custodian commands: create, list, disable, enable AES-256 keys in the HSM.

These are run by the French key custodian with the HSM PIN, not by the AWS-side platform team.
State and usage are kept apart (see ``hsm.STATE_APPLICATION``): ``disable`` writes a state object that
records the key's usage and clears CKA_ENCRYPT/CKA_DECRYPT, so the HSM itself refuses the key;
``enable`` restores the recorded usage and removes the state object; ``usage`` changes what an enabled
key may do (or, on a disabled key, what it will do once enabled).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11 import exceptions as p11e

from .budget import destroy_leases, leased
from .config import KEY_ID_RE, HsmConfig
from .hsm import (
    STATE_APPLICATION,
    KeyInfo,
    decode_state,
    encode_state,
    find_state,
    key_template,
    open_token,
    read_key_info,
)
from .library import LIBRARY_GATE, LibraryUnavailable


class KeyCommandError(Exception):
    """A custodian command cannot be carried out; the message says why."""


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    info: KeyInfo
    gcm_leased: int = 0  # GCM invocations leased by every proxy process (budget.py)
    gcm_limit: int = 2**32

    @property
    def status(self) -> str:
        if not self.info.is_aes_256:
            return "NOT-AES-256"
        if not self.info.protected:
            return "UNPROTECTED(extractable)"
        return "ENABLED" if self.info.enabled else "DISABLED"

    def line(self, gcm: bool = False) -> str:
        text = f"{self.key_id}: {self.status} usage={self.usage}"
        return f"{text} gcm_leased={self.gcm}" if gcm else text

    @property
    def gcm(self) -> str:
        """Leased GCM invocations over the cap (an upper bound of those used: leases are spent whole)."""
        return f"{self.gcm_leased}/{self.gcm_limit}"

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
        self.cfg = cfg
        # Inside the library gate from the session's opening to close(): nothing in this process
        # finalises the library under the custodian's session (library.py).
        self._in_library = ExitStack()
        try:
            _, token = open_token(str(cfg.module), cfg.token_label, cfg.slot)
            self._in_library.enter_context(LIBRARY_GATE.call())
            self.session: Any = token.open(user_pin=cfg.pin, rw=True)
        except p11e.PinIncorrect:
            self._in_library.close()
            raise KeyCommandError("HSM login failed: the PIN is incorrect") from None
        except p11e.PKCS11Error as exc:
            self._in_library.close()
            raise KeyCommandError(f"cannot open the HSM token: {type(exc).__name__}") from None
        except LibraryUnavailable as exc:
            self._in_library.close()
            raise KeyCommandError(f"cannot open the HSM token: {exc}") from None
        except BaseException:
            self._in_library.close()
            raise

    def close(self) -> None:
        try:
            self.session.close()
        finally:
            self._in_library.close()

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
        stale = find_state(self.session, key_id)
        if stale is not None:  # left by a destroyed key of the same id: a new key starts enabled
            stale.destroy()
        destroy_leases(self.session, key_id)  # a destroyed key's budget: new key material, new budget
        key = self.session.generate_key(
            KeyType.AES,
            256,
            label=key_id,
            id=key_id.encode(),
            store=True,
            template=key_template(encrypt, decrypt),
        )
        return self._row(key_id, read_key_info(key_id, key))

    def _row(self, key_id: str, info: KeyInfo) -> KeyRow:
        limit = self.cfg.gcm_invocation_limit
        return KeyRow(key_id, info, leased(self.session, key_id, limit), limit)

    def list(self) -> list[KeyRow]:
        rows = []
        # Materialised first: one object search at a time per session (find_state runs its own).
        for obj in list(self.session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})):
            label = obj[Attribute.LABEL]
            rows.append(self._row(label, read_key_info(label, obj, find_state(self.session, label))))
        return sorted(rows, key=lambda r: r.key_id)

    def show(self, key_id: str) -> KeyRow:
        key = self._find(key_id)
        return self._row(key_id, read_key_info(key_id, key, find_state(self.session, key_id)))

    def _set_bits(self, key_id: str, key: Any, encrypt: bool, decrypt: bool) -> None:
        try:
            key[Attribute.ENCRYPT] = encrypt
            key[Attribute.DECRYPT] = decrypt
        except p11e.PKCS11Error as exc:
            raise KeyCommandError(f"the HSM refused to change key {key_id!r}: {type(exc).__name__}") from None

    def set_usage(self, key_id: str, encrypt: bool, decrypt: bool) -> KeyRow:
        """What the key may do; on a disabled key, recorded for when it is enabled again."""
        key = self._find(key_id)
        state = find_state(self.session, key_id)
        if state is None:
            self._set_bits(key_id, key, encrypt, decrypt)
        else:
            state[Attribute.VALUE] = encode_state(encrypt, decrypt)
        return self.show(key_id)

    def disable(self, key_id: str) -> KeyRow:
        key = self._find(key_id)
        if find_state(self.session, key_id) is None:
            info = read_key_info(key_id, key)
            # State object first: if clearing the bits then fails, the key is still disabled.
            self.session.create_object(
                {
                    Attribute.CLASS: ObjectClass.DATA,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.MODIFIABLE: True,
                    Attribute.LABEL: key_id,
                    Attribute.APPLICATION: STATE_APPLICATION,
                    Attribute.VALUE: encode_state(info.can_encrypt, info.can_decrypt),
                }
            )
            self._set_bits(key_id, key, False, False)
        return self.show(key_id)

    def enable(self, key_id: str, usage: tuple[bool, bool] | None = None) -> KeyRow:
        """Enable with the usage recorded at disable time, or ``usage`` when given."""
        key = self._find(key_id)
        state = find_state(self.session, key_id)
        if state is not None:
            recorded = decode_state(bytes(state[Attribute.VALUE]))
            self._set_bits(key_id, key, *(usage or recorded))
            state.destroy()
        elif usage is not None:
            self._set_bits(key_id, key, *usage)
        return self.show(key_id)

    def destroy(self, key_id: str) -> None:
        """Crypto-shredding: the key and its state object are deleted from the HSM, irreversibly."""
        key = self._find(key_id)
        state = find_state(self.session, key_id)
        key.destroy()
        if state is not None:
            state.destroy()
        destroy_leases(self.session, key_id)
