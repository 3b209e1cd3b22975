# ruff: noqa: N818 - internal signals between worker threads and the API layer
"""PKCS#11 access: AES-256-GCM in the HSM through python-pkcs11, from a small pool of worker threads.

Why threads: a network HSM answers in milliseconds and may stop answering altogether; the event loop
must never wait on it. Each worker thread owns one PKCS#11 session (object handles are shared by all
sessions of the application, so only the session differs). python-pkcs11 releases the GIL around
every C_* call, so HSM latency overlaps with Python work.

Why a hand-rolled pool rather than ``loop.run_in_executor``: see hsm_pool.py.

Failure model:
- an operation that does not finish within ``operation_timeout_s`` fails with
  DependencyTimeoutException and marks the HSM *stalled*; queued work whose caller gave up is skipped;
- a PKCS#11 error that means the token, session or library is gone triggers a reconnect
  (C_Finalize/C_Initialize, new sessions, login, key handles looked up again), at most once a second,
  and only once no thread of the process is inside the library (library.py; else HsmUnavailable);
- the pool is bounded: when it is full the caller gets ThrottlingException, or
  DependencyTimeoutException if the HSM is stalled (the queue is full because the HSM stopped).
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e
from pkcs11.mechanisms import GCMParams

from .budget import GcmBudget
from .config import HsmConfig
from .hsm_pool import HsmPool
from .library import LIBRARY_GATE, LibraryUnavailable, reinitialize_for_threads_unguarded

log = logging.getLogger("xks_proxy.hsm")
T = TypeVar("T")

IV_BYTES = 12  # NIST SP 800-38D: 96-bit random IVs; the spec allows 12 or 16 bytes
TAG_BYTES = 16

# Errors meaning "the HSM, token, session or library went away": reconnect, do not blame the caller.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    p11e.DeviceError,
    p11e.DeviceRemoved,
    p11e.DeviceMemory,
    p11e.SessionClosed,
    p11e.SessionHandleInvalid,
    p11e.SessionCount,
    p11e.TokenNotPresent,
    p11e.TokenNotRecognised,
    p11e.UserNotLoggedIn,
    p11e.NoSuchToken,
    p11e.FunctionFailed,
    p11e.HostMemory,
)
# A handle that names no object any more: the custodian destroyed (or re-created) that key, from another
# process. That is an answer about one key (KeyNotFoundException), never a lost connection: resetting
# the library for it would stall every key's calls (issue 21, point 6).
_STALE_HANDLE_ERRORS: tuple[type[BaseException], ...] = (p11e.ObjectHandleInvalid, p11e.KeyHandleInvalid)
# What an HSM returns for a GCM tag mismatch: CKR_ENCRYPTED_DATA_INVALID per PKCS#11; SoftHSM2 returns
# CKR_GENERAL_ERROR. Only interpreted this way for decrypt; the health probe catches real failures.
_BAD_CIPHERTEXT_ERRORS: tuple[type[BaseException], ...] = (
    p11e.EncryptedDataInvalid,
    p11e.EncryptedDataLenRange,
    p11e.GeneralError,
    p11e.MechanismParamInvalid,
)


def _key_usage_error(exc: BaseException) -> bool:
    # CKR_KEY_FUNCTION_NOT_PERMITTED has no class of its own in python-pkcs11: it is the bare base class.
    return type(exc) is p11e.PKCS11Error or isinstance(exc, p11e.FunctionRejected)


class HsmUnavailable(LibraryUnavailable):
    """The HSM cannot be reached or the token is not usable right now."""


class KeyMissing(Exception):
    """No secret key with that label on the token."""


class BadCiphertext(Exception):
    """GCM authentication failed: ciphertext, IV, tag, AAD or ciphertextMetadata do not match."""


class KeyUsageRefused(Exception):
    """The HSM refused the operation for this key (CKA_ENCRYPT/CKA_DECRYPT false)."""


class KeyRefused(Exception):
    """The key exists but may not serve this request; ``kind`` says why (mapped to the spec's errors).

    Checked in the worker thread, in the same job as the operation: one HSM pool round trip per
    request instead of a key lookup job followed by an operation job.
    """

    def __init__(self, kind: str, key_id: str) -> None:
        super().__init__(f"{kind}: {key_id}")
        self.kind = kind  # not_aes_256 | unprotected | disabled | usage | cdiv


def check_usable(info: KeyInfo, want: str, cdiv: bool = False) -> None:
    if not info.is_aes_256:
        raise KeyRefused("not_aes_256", info.key_id)
    if not info.protected:
        raise KeyRefused("unprotected", info.key_id)
    if info.disabled:
        raise KeyRefused("disabled", info.key_id)
    if (want == "encrypt" and not info.can_encrypt) or (want == "decrypt" and not info.can_decrypt):
        raise KeyRefused("usage", info.key_id)
    if cdiv and not info.can_decrypt:
        # A CDIV promises KMS the ciphertext was verified by decrypting it: impossible here.
        raise KeyRefused("cdiv", info.key_id)


# The key state lives in the HSM, apart from the key's usage: a CKO_DATA object labelled with the key id
# and this application marks the key disabled and records the usage it had, because a key that may not
# encrypt (InvalidKeyUsageException) is not a disabled key (InvalidStateException). Disabling also clears
# CKA_ENCRYPT/CKA_DECRYPT so the HSM itself refuses the key whatever talks to it; enabling restores them.
STATE_APPLICATION = "xks-proxy key state"
STATE_DISABLED = b"DISABLED"


@dataclass(frozen=True)
class KeyInfo:
    """What the proxy needs to know about an external key, read from its PKCS#11 attributes."""

    key_id: str
    is_aes_256: bool
    can_encrypt: bool  # permitted usage; while disabled, the usage it will have again once enabled
    can_decrypt: bool
    protected: bool  # CKA_SENSITIVE and not CKA_EXTRACTABLE: key material cannot leave the HSM
    disabled: bool = False

    @property
    def enabled(self) -> bool:
        return not self.disabled


def encode_state(encrypt: bool, decrypt: bool) -> bytes:
    usage = ",".join(u for u, ok in (("encrypt", encrypt), ("decrypt", decrypt)) if ok)
    return STATE_DISABLED + b";usage=" + usage.encode()


def decode_state(value: bytes) -> tuple[bool, bool]:
    """Usage recorded in a state object (what the key may do once enabled)."""
    _, _, usage = value.partition(b";usage=")
    parts = set(usage.split(b","))
    return b"encrypt" in parts, b"decrypt" in parts


def find_state(session: Any, key_id: str) -> Any | None:
    """The key's state object, or None when the key is enabled."""
    found = list(
        session.get_objects(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.LABEL: key_id,
                Attribute.APPLICATION: STATE_APPLICATION,
            }
        )
    )
    return found[0] if found else None


@dataclass(frozen=True)
class TokenInfo:
    manufacturer: str
    model: str
    serial: str
    label: str


def key_template(encrypt: bool = True, decrypt: bool = True) -> dict[Attribute, Any]:
    """Attributes of a key made by ``keys create``: AES-256, non-extractable, encrypt/decrypt only."""
    return {
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.MODIFIABLE: True,  # so a custodian can disable/enable it
        Attribute.ENCRYPT: encrypt,
        Attribute.DECRYPT: decrypt,
        Attribute.WRAP: False,
        Attribute.UNWRAP: False,
        Attribute.SIGN: False,
        Attribute.VERIFY: False,
        Attribute.DERIVE: False,
    }


def _handle_still_names(key: Any, key_id: str) -> bool:
    """Whether a cached handle still names a secret key labelled ``key_id`` with the usage its object had.

    python-pkcs11 gives a key object encrypt/decrypt methods from its attributes when it is found: a key
    whose usage changed since (disabled, enabled) must be found again too. Any PKCS#11 error reading the
    attributes (handle invalid: destroyed) means "no"; a lost token is then seen by the lookup that follows.
    """
    try:
        return (
            key[Attribute.LABEL] == key_id
            and hasattr(key, "encrypt") == bool(key[Attribute.ENCRYPT])
            and hasattr(key, "decrypt") == bool(key[Attribute.DECRYPT])
        )
    except p11e.PKCS11Error:
        return False


def read_key_info(key_id: str, key: Any, state: Any | None = None) -> KeyInfo:
    encrypt, decrypt = bool(key[Attribute.ENCRYPT]), bool(key[Attribute.DECRYPT])
    if state is not None:
        encrypt, decrypt = decode_state(bytes(state[Attribute.VALUE]))
    return KeyInfo(
        key_id=key_id,
        is_aes_256=key[Attribute.KEY_TYPE] == KeyType.AES and int(key[Attribute.VALUE_LEN]) == 32,
        can_encrypt=encrypt,
        can_decrypt=decrypt,
        protected=bool(key[Attribute.SENSITIVE]) and not bool(key[Attribute.EXTRACTABLE]),
        disabled=state is not None,
    )


def open_token(
    module: str, token_label: str | None, slot: int | None, drain_timeout_s: float = 30.0
) -> tuple[Any, Any]:
    """Load the PKCS#11 module and find the token, by label or by slot id."""
    # Waits for every call in flight in this process (e.g. a proxy's workers) to leave the library.
    with LIBRARY_GATE.reset(drain_timeout_s):
        lib = pkcs11.lib(module)
        # Also re-reads the module's configuration (e.g. SOFTHSM2_CONF).
        reinitialize_for_threads_unguarded(module)
        return lib, find_token(lib, token_label, slot)


def find_token(lib: Any, token_label: str | None, slot: int | None) -> Any:
    if token_label is not None:
        return lib.get_token(token_label=token_label)
    for s in lib.get_slots(token_present=True):
        if s.slot_id == slot:
            return s.get_token()
    raise p11e.NoSuchToken(f"no token in slot {slot}")


class _SessionState(threading.local):
    def __init__(self) -> None:
        self.session: Any = None
        self.generation = -1
        self.keys: dict[str, tuple[Any, KeyInfo, float]] = {}
        self.probe_key: Any = None


class Pkcs11Hsm(HsmPool):
    """Thread-safe PKCS#11 operations, run by the asyncio-facing bounded worker pool (hsm_pool.py)."""

    def __init__(self, cfg: HsmConfig) -> None:
        super().__init__(cfg)
        self._lib: Any = None
        self._token: Any = None
        self._generation = 0
        self._logged_in = False
        self._lock = threading.Lock()
        self._connect_lock = threading.Lock()
        self._last_connect_attempt = 0.0
        self._local = _SessionState()
        self._sessions: list[Any] = []
        self.token_info: TokenInfo | None = None
        # Encryptions per key by this process (a metric). The bound itself (NIST SP 800-38D 8.3: at
        # most 2^32 random-IV encryptions per key) is enforced fleet-wide by the budget's HSM leases.
        self.encryptions: dict[str, int] = {}
        self.budget = GcmBudget(cfg.gcm_invocation_limit, cfg.gcm_lease_block)
        self._alerted: set[str] = set()

    # ------------------------------------------------------------------ connection (worker threads)

    def connect(self) -> None:
        """(Re)load the module, find the token, read its identity; never from inside the gate.

        ``_connect_lock``, not ``_lock`` (taken inside the gate), serialises reconnects."""
        with self._connect_lock:
            self._connect_locked(self._generation)

    def _connect_locked(self, seen_generation: int) -> None:
        if seen_generation != self._generation and self._token is not None:
            return  # another thread reconnected meanwhile
        now = time.monotonic()
        if self._token is None and now - self._last_connect_attempt < 1.0 and self._last_connect_attempt:
            raise HsmUnavailable("HSM unavailable (reconnect back-off)")
        self._last_connect_attempt = now
        try:
            # Sessions and handles of the old connection die with C_Finalize: only once no call runs.
            with LIBRARY_GATE.reset(self.cfg.stuck_session_s):
                self._token = None
                if self._lib is None:
                    self._lib = pkcs11.lib(str(self.cfg.module))
                reinitialize_for_threads_unguarded(str(self.cfg.module))
                self._token = find_token(self._lib, self.cfg.token_label, self.cfg.slot)
                with self._lock:
                    self._generation += 1
                    self._logged_in = False
                    self._sessions = []
        except Exception as exc:
            with self._lock:
                self._token = None
                self._generation += 1
            why = str(exc) if isinstance(exc, LibraryUnavailable) else type(exc).__name__
            raise HsmUnavailable(f"cannot reach the HSM token: {why}") from None
        tok = self._token
        self.token_info = TokenInfo(
            manufacturer=str(tok.manufacturer_id).strip(),
            model=str(tok.model).strip(),
            serial=str(tok.serial.decode() if isinstance(tok.serial, bytes) else tok.serial).strip(),
            label=str(tok.label).strip(),
        )

    def _session(self) -> Any:
        """This thread's session, inside ``LIBRARY_GATE.call()``: it never reconnects (_run does)."""
        st = self._local
        if st.session is not None and st.generation == self._generation:
            return st.session
        with self._lock:
            if self._token is None:
                # Another thread lost the token since this one checked: _run reconnects and retries.
                raise p11e.TokenNotPresent()
            gen = self._generation
            try:
                if not self._logged_in:
                    # Login is per application: the first session logs in, the others inherit it.
                    session = self._token.open(user_pin=self.cfg.pin)
                    self._logged_in = True
                else:
                    session = self._token.open()
            except p11e.PinIncorrect:
                raise HsmUnavailable("HSM login failed: PIN incorrect") from None
            except _CONNECTION_ERRORS as exc:
                self._token = None  # the token or library is gone: every thread reconnects
                raise HsmUnavailable(f"cannot open an HSM session: {type(exc).__name__}") from None
            except Exception as exc:
                # Anything else (e.g. a busy token) fails this request only, without a reconnect.
                raise HsmUnavailable(f"cannot open an HSM session: {type(exc).__name__}") from None
            self._sessions.append(session)
        st.session, st.generation, st.keys, st.probe_key = session, gen, {}, None
        return session

    def _run(self, op: Callable[[Any], T]) -> T:
        """Run ``op(session)``; on a connection-type error reconnect once and retry."""
        for attempt in (0, 1):
            if self.stopping:
                raise HsmUnavailable("the proxy is stopping")
            gen = self._generation
            if self._token is None:
                with self._connect_lock:  # outside the gate: a reconnect waits for calls to leave
                    self._connect_locked(gen)
                gen = self._generation
            with LIBRARY_GATE.call():
                try:
                    return op(self._session())
                except _CONNECTION_ERRORS as exc:
                    log.warning("hsm_connection_error", extra={"fields": {"error": type(exc).__name__}})
                    self._local.session = None
                    with self._lock:
                        if gen == self._generation:
                            self._token = None  # force a reconnect for every thread
                    if attempt:
                        raise HsmUnavailable(f"HSM error: {type(exc).__name__}") from None
        raise AssertionError("unreachable")

    def _key(self, session: Any, key_id: str) -> tuple[Any, KeyInfo]:
        st = self._local
        cached = st.keys.get(key_id)
        now = time.monotonic()
        if cached is not None and now - cached[2] < self.cfg.key_cache_ttl_s:
            return cached[0], cached[1]
        key = cached[0] if cached is not None else None
        if key is not None and not _handle_still_names(key, key_id):
            key = None  # destroyed, or its handle reused: look it up again (KeyNotFound if gone)
            self.budget.forget(key_id)  # a lease belongs to the key it was taken for
        if key is None:
            try:
                key = session.get_key(object_class=ObjectClass.SECRET_KEY, label=key_id)
            except p11e.NoSuchKey:
                # "Not found" is only an answer if the token is really there: a vanished token also
                # finds nothing. C_GetTokenInfo tells them apart; a missing token means reconnect.
                try:
                    self._token.slot.get_token()
                except p11e.PKCS11Error:
                    raise p11e.TokenNotPresent() from None
                raise KeyMissing(key_id) from None
            except p11e.MultipleObjectsReturned:
                raise HsmUnavailable(f"more than one secret key labelled {key_id}") from None
        try:
            info = read_key_info(key_id, key, find_state(session, key_id))
        except _STALE_HANDLE_ERRORS:
            raise KeyMissing(key_id) from None  # destroyed between the lookup and this read
        st.keys[key_id] = (key, info, now)
        return key, info

    def _with_key(self, session: Any, key_id: str, use: Callable[[Any, KeyInfo], T]) -> T:
        """``use(key, info)`` with this thread's handle for ``key_id``.

        A cached handle may outlive its key (the custodian's ``keys destroy`` runs in another process).
        When ``use`` fails in a way a vanished key also explains, the handle is checked (does it still
        name an object labelled ``key_id``?); if not, it is dropped and the key looked up once more, so a
        destroyed key answers KeyNotFoundException every time and the library is never reset for it.
        """
        for attempt in (0, 1):
            key, info = self._key(session, key_id)
            try:
                return use(key, info)
            except _STALE_HANDLE_ERRORS:
                pass
            except (BadCiphertext, p11e.PKCS11Error):
                if attempt or _handle_still_names(key, key_id):
                    raise
            self._local.keys.pop(key_id, None)
        self.budget.forget(key_id)
        raise KeyMissing(key_id)

    # ------------------------------------------------------------------ operations (worker threads)

    def key_info(self, key_id: str) -> KeyInfo:
        return self._run(lambda s: self._key(s, key_id)[1])

    def encrypt(self, key_id: str, plaintext: bytes, aad: bytes, verify: bool) -> tuple[bytes, bytes, bytes]:
        """AES-256-GCM encrypt in the HSM; returns (iv, ciphertext, tag). ``verify`` decrypts it back."""

        session_now: list[Any] = []

        def use(key: Any, info: KeyInfo) -> tuple[bytes, bytes, bytes]:
            check_usable(info, "encrypt", cdiv=verify)
            # Spent before the call: an encryption that then fails wastes one invocation, never
            # lets one go uncounted (GcmBudget: fleet-wide, in the HSM).
            self.budget.spend(lambda: session_now[0].token.open(rw=True), key_id)
            iv = os.urandom(IV_BYTES)
            try:
                out = key.encrypt(plaintext, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(iv, aad))
            except p11e.PKCS11Error as exc:
                if _key_usage_error(exc):
                    raise KeyUsageRefused(key_id) from None
                raise
            if len(out) != len(plaintext) + TAG_BYTES:
                raise HsmUnavailable("HSM returned a GCM output of unexpected length")
            ct, tag = out[:-TAG_BYTES], out[-TAG_BYTES:]
            if verify:
                # Spec, Appendix C: confirm the output decrypts before KMS stores it (bit-flip guard).
                try:
                    back = key.decrypt(out, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(iv, aad))
                except _BAD_CIPHERTEXT_ERRORS:
                    raise HsmUnavailable("HSM encrypt output failed its verification decrypt") from None
                if not hmac.compare_digest(back, plaintext):
                    raise HsmUnavailable("HSM encrypt output failed its verification decrypt")
            return iv, ct, tag

        def op(session: Any) -> tuple[bytes, bytes, bytes]:
            session_now[:] = [session]
            return self._with_key(session, key_id, use)

        result = self._run(op)
        self._count_encryption(key_id)
        return result

    def _count_encryption(self, key_id: str) -> None:
        with self._results_lock:
            self.encryptions[key_id] = self.encryptions.get(key_id, 0) + 1
        n = self.budget.leased_for(key_id)  # fleet-wide: every process's leases, from the HSM
        if n >= self.cfg.encryption_alert_count and key_id not in self._alerted:
            self._alerted.add(key_id)
            log.error(
                "key_rotation_due",
                extra={
                    "fields": {
                        "keyId": key_id,
                        "leasedInvocations": n,
                        "limit": self.cfg.gcm_invocation_limit,
                        "detail": "NIST SP 800-38D random-IV limit approaching; rotate (docs/xks-proxy.md)",
                    }
                },
            )

    def decrypt(self, key_id: str, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes) -> bytes:
        def use(key: Any, info: KeyInfo) -> bytes:
            check_usable(info, "decrypt")
            params = GCMParams(b"", aad)
            params.nonce = iv  # GCMParams' constructor rejects 16-byte IVs, which the spec allows
            try:
                out: bytes = key.decrypt(
                    ciphertext + tag, mechanism=Mechanism.AES_GCM, mechanism_param=params
                )
            except _BAD_CIPHERTEXT_ERRORS:
                raise BadCiphertext(key_id) from None
            except p11e.PKCS11Error as exc:
                if _key_usage_error(exc):
                    raise KeyUsageRefused(key_id) from None
                raise
            return out

        return self._run(lambda session: self._with_key(session, key_id, use))

    def probe(self) -> None:
        """Deep health check: a round trip with a session-only test key (never a KMS key, per spec)."""

        def op(session: Any) -> None:
            st = self._local
            self._token.slot.get_token()  # C_GetTokenInfo: fails when the token itself is gone
            if st.probe_key is None:
                st.probe_key = session.generate_key(
                    KeyType.AES,
                    256,
                    store=False,
                    label="xks-proxy-health-probe",
                    template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
                )
            iv = os.urandom(IV_BYTES)
            data = os.urandom(32)
            out = st.probe_key.encrypt(
                data, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(iv, b"probe")
            )
            back = st.probe_key.decrypt(
                out, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(iv, b"probe")
            )
            if back != data:
                raise HsmUnavailable("HSM health probe round trip mismatch")

        try:
            self._run(op)
        except _BAD_CIPHERTEXT_ERRORS as exc:
            raise HsmUnavailable(f"HSM health probe failed: {type(exc).__name__}") from None

    def _discard_thread_session(self) -> None:
        """Close this thread's session (a worker leaving: replaced as stuck, or the pool stopping)."""
        session = self._local.session
        self._local.session = None
        # A handle from before a reconnect is dead, and its number may since name someone else's session.
        if session is not None and self._local.generation == self._generation:
            try:
                with LIBRARY_GATE.call():
                    session.close()
            except Exception:
                log.debug("stuck_session_close_failed")
