"""Secrets of a run: Vault encryption of secret extra vars, and redaction of their values.

A secret extra var is kept and carried Vault-encrypted with the configured vault
password; the worker hands ansible the ciphertext (``!vault`` in a vars file) and
learns the plaintext only to cut it out of everything it stores or publishes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dcsim.errors import InvalidInput

MASK = "********"
#: Values shorter than this are not redacted (a one-letter secret would mask every text).
MIN_SECRET_LENGTH = 4


def _vault(password: str) -> Any:
    from ansible.constants import DEFAULT_VAULT_ID_MATCH  # type: ignore[import-untyped]
    from ansible.parsing.vault import VaultLib, VaultSecret  # type: ignore[import-untyped]

    return VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(password.encode()))])


def encrypt(password: str, plaintext: str) -> str:
    """``plaintext`` as Ansible Vault 1.1 ciphertext."""
    return str(_vault(password).encrypt(plaintext).decode())


def decrypt(password: str, ciphertext: str) -> str:
    """The plaintext of Vault ciphertext; InvalidInput when it is not, or the password is wrong."""
    from ansible.errors import AnsibleError  # type: ignore[import-untyped]

    try:
        return str(_vault(password).decrypt(ciphertext.strip().encode()).decode())
    except AnsibleError as exc:
        raise InvalidInput(f"not Ansible Vault ciphertext of the configured vault password: {exc}") from None


#: Vault files larger than this are not read for their secrets.
MAX_VAULT_FILE_BYTES = 1 << 20


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [str(value)] if isinstance(value, str | int | float) and not isinstance(value, bool) else []


def vault_file_secrets(password: str, folder: Path) -> list[str]:
    """The values held in Ansible Vault files under ``folder`` (a playbook's project):
    every file that starts with ``$ANSIBLE_VAULT`` is decrypted and its YAML's leaf
    values are secrets. Files that do not decrypt with ``password`` are skipped."""
    import yaml

    found: list[str] = []
    for path in sorted(folder.rglob("*")):
        try:
            if not path.is_file() or path.stat().st_size > MAX_VAULT_FILE_BYTES:
                continue
            with path.open("rb") as handle:
                if handle.read(14) != b"$ANSIBLE_VAULT":
                    continue
            plaintext = decrypt(password, path.read_text())
        except (OSError, UnicodeDecodeError, InvalidInput):
            continue
        try:
            found.extend(_leaves(yaml.safe_load(plaintext)))
        except yaml.YAMLError:
            found.append(plaintext)
    return found


class Redactor:
    """Cuts known secret values out of text and JSON values."""

    def __init__(self, secrets: list[str]) -> None:
        needles: set[str] = set()
        for secret in secrets:
            if len(secret) < MIN_SECRET_LENGTH:
                continue
            needles.add(secret)
            # How the value looks inside JSON text or a repr'd string.
            needles.add(json.dumps(secret)[1:-1])
            needles.add(secret.encode("unicode_escape").decode())
            for line in secret.splitlines():
                if len(line) >= MIN_SECRET_LENGTH:
                    needles.add(line)
        # Longest first, so a secret containing another is cut whole.
        self.needles = sorted(needles, key=len, reverse=True)

    def text(self, text: str) -> str:
        """``text`` with every secret value masked."""
        for needle in self.needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text

    def value(self, value: Any) -> Any:
        """A JSON value with every secret masked in its strings (keys included)."""
        if not self.needles:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value
