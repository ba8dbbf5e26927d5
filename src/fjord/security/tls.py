"""The TLS context of an SSL or SASL_SSL listener, from Kafka's `ssl.*` keys.

Key material comes as Kafka allows it: a PEM keystore file (key and chain together), PEM
given inline (`ssl.keystore.key` + `ssl.keystore.certificate.chain`), or PKCS12. The
stdlib only loads certificates from files, so inline and PKCS12 material is written to a
private temporary file that is removed as soon as it is loaded. Only TLS 1.2 and 1.3
are ever accepted, whatever `ssl.enabled.protocols` says.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Callable
from typing import Any

from fjord.config.definitions import ConfigError

_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
_CLIENT_AUTH = {"none": ssl.CERT_NONE, "requested": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}


def _pkcs12_to_pem(path: str, password: str | None, what: str) -> tuple[bytes, list[bytes]]:
    """(private key PEM or b'', certificates PEM) of a PKCS12 file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    with open(path, "rb") as handle:
        data = handle.read()
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            data, password.encode() if password else None)
    except ValueError as exc:
        raise ConfigError(f"Cannot read the PKCS12 {what} {path}: {exc} (check its password)") from None
    key_pem = b"" if key is None else key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    certs = [c.public_bytes(serialization.Encoding.PEM) for c in ([cert] if cert else []) + list(extra)]
    return key_pem, certs


def _with_private_file(data: bytes, use: Callable[[str], None]) -> None:
    fd, path = tempfile.mkstemp(prefix="fjord-tls-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        use(path)
    finally:
        os.unlink(path)


def server_context(get: Callable[[str], Any], listener: str) -> ssl.SSLContext:
    """`get(key)` is the key's value on this listener (listener.name.<l>.* first)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    versions = [_VERSIONS[v] for v in get("ssl.enabled.protocols") or ["TLSv1.2", "TLSv1.3"]]
    context.minimum_version, context.maximum_version = min(versions), max(versions)
    context.options |= ssl.OP_NO_COMPRESSION
    ciphers = get("ssl.cipher.suites")
    if ciphers:
        try:
            context.set_ciphers(":".join(ciphers))
        except ssl.SSLError:
            raise ConfigError(f"ssl.cipher.suites of listener {listener}: no usable cipher in "
                              f"{','.join(ciphers)}") from None
    _load_keystore(context, get, listener)
    _load_truststore(context, get, listener)
    context.verify_mode = _CLIENT_AUTH[get("ssl.client.auth")]
    return context


def _load_keystore(context: ssl.SSLContext, get: Callable[[str], Any], listener: str) -> None:
    kind = get("ssl.keystore.type")
    location = get("ssl.keystore.location")
    key_password = get("ssl.key.password") or get("ssl.keystore.password")
    inline_key, inline_chain = get("ssl.keystore.key"), get("ssl.keystore.certificate.chain")
    try:
        if inline_key or inline_chain:
            if not (inline_key and inline_chain):
                raise ConfigError(f"Listener {listener}: set both ssl.keystore.key and "
                                  "ssl.keystore.certificate.chain")
            material = (inline_key.strip() + "\n" + inline_chain.strip() + "\n").encode()
            _with_private_file(material, lambda path: context.load_cert_chain(path, password=key_password))
            return
        if not location:
            raise ConfigError(f"Listener {listener} uses TLS but has no key: set ssl.keystore.type=PEM "
                              "and ssl.keystore.location (or ssl.keystore.key and "
                              "ssl.keystore.certificate.chain)")
        if kind == "PKCS12":
            key_pem, certs = _pkcs12_to_pem(location, get("ssl.keystore.password"), "keystore")
            _with_private_file(key_pem + b"".join(certs), context.load_cert_chain)
        elif kind == "PEM":
            context.load_cert_chain(location, password=key_password)
        else:
            raise ConfigError(f"ssl.keystore.type={kind} of listener {listener}: Fjord reads PEM and "
                              "PKCS12 keystores; convert a JKS one with keytool -importkeystore "
                              "-deststoretype PKCS12")
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"Cannot load the TLS key of listener {listener}: {exc}") from None


def _load_truststore(context: ssl.SSLContext, get: Callable[[str], Any], listener: str) -> None:
    kind = get("ssl.truststore.type")
    location = get("ssl.truststore.location")
    inline = get("ssl.truststore.certificates")
    try:
        if inline:
            context.load_verify_locations(cadata=inline)
        elif location and kind == "PKCS12":
            _key, certs = _pkcs12_to_pem(location, get("ssl.truststore.password"), "truststore")
            context.load_verify_locations(cadata=b"".join(certs).decode())
        elif location and kind == "PEM":
            context.load_verify_locations(cafile=location)
        elif location:
            raise ConfigError(f"ssl.truststore.type={kind} of listener {listener}: use PEM or PKCS12")
        elif get("ssl.client.auth") != "none":
            raise ConfigError(f"Listener {listener} asks for client certificates "
                              "(ssl.client.auth) but has no ssl.truststore.location to check them")
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"Cannot load the TLS truststore of listener {listener}: {exc}") from None
