"""The database bootstrap function (AWS Lambda, Python runtime): creates the application's PostgreSQL user.

The stack invokes it (`aws.lambda_.Invocation`, once per change of the desired state) with an event naming what must
exist; it reads the RDS-managed master secret, connects as the master user and converges the database:

    {"host": <instance address>, "port": 5432, "database": "shop", "user": "shop_app", "secretArn": <master secret>}

- the role `user` exists with LOGIN and is a member of `rds_iam` (IAM database authentication only: it has no
  password), may CONNECT to `database` and may use and create in its `public` schema;
- every statement is idempotent, so a repeated invocation converges instead of failing, and the result is read back.

TLS is what libpq calls `sslmode=verify-full`: the server's certificate must chain to one of the RDS root CAs shipped
next to this file (`rds-ca-roots.pem`, nothing else is trusted) and must name the host the function connects to.

No third-party code: the PostgreSQL frontend/backend protocol 3.0 (SSLRequest, startup, SCRAM-SHA-256, MD5 or
password authentication over that TLS channel, the simple query protocol) is implemented here with the standard
library, so everything that ever holds the superuser's password fits on one screen and is reviewed with the platform.
The function returns, and logs, no credential: errors carry PostgreSQL's SQLSTATE and message, never the password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import socket
import ssl
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

CA_FILE = Path(__file__).with_name("rds-ca-roots.pem")
"""The only trust anchors: the RDS G1 root CAs of the organisation's regions (see the database component)."""

APPLICATION_NAME = "platform-db-bootstrap"
TIMEOUT_SECONDS = 10.0
PROTOCOL_3_0 = 196608
SSL_REQUEST_CODE = 80877103
MIN_SCRAM_ITERATIONS = 4096
"""RFC 7677's minimum (and PostgreSQL's default): fewer iterations from the server are refused."""

GRANTS = ("rds_iam", "CONNECT ON DATABASE", "USAGE, CREATE ON SCHEMA public")
"""What the application's user is given, in the order `statements()` grants it."""

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
"""The PostgreSQL identifiers the platform's config accepts: embedded in SQL only after this check."""
HOSTNAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w!/+=.@-]+$")


class BootstrapError(Exception):
    """The bootstrap could not converge; the message says why, without any credential."""


@dataclass(frozen=True)
class Desired:
    """What the database must hold: the invocation's event, validated."""

    host: str
    port: int
    database: str
    user: str
    secret_arn: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Desired:
        problems = []
        host, port = event.get("host"), event.get("port")
        database, user, secret_arn = event.get("database"), event.get("user"), event.get("secretArn")
        if not isinstance(host, str) or not HOSTNAME.match(host):
            problems.append(f"host {host!r}: a DNS name")
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            problems.append(f"port {port!r}: 1-65535")
        for key, value in (("database", database), ("user", user)):
            if not isinstance(value, str) or not IDENTIFIER.match(value):
                problems.append(f"{key} {value!r}: a PostgreSQL identifier (lowercase letter, then a-z, 0-9, _)")
        if not isinstance(secret_arn, str) or not SECRET_ARN.match(secret_arn):
            problems.append(f"secretArn {secret_arn!r}: a Secrets Manager secret ARN")
        if problems:
            raise BootstrapError("invalid event: " + "; ".join(problems))
        assert isinstance(host, str) and isinstance(port, int)
        assert isinstance(database, str) and isinstance(user, str) and isinstance(secret_arn, str)
        return cls(host=host, port=port, database=database, user=user, secret_arn=secret_arn)


def statements(user: str, database: str) -> list[str]:
    """The idempotent SQL that makes `user` an IAM-authenticated login with its grants on `database`."""
    for value in (user, database):
        if not IDENTIFIER.match(value):
            raise BootstrapError(f"{value!r} is not a PostgreSQL identifier the platform accepts")
    return [
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
        f"'{user}') THEN CREATE ROLE \"{user}\" LOGIN; END IF; END $$",
        f'ALTER ROLE "{user}" LOGIN',
        f'GRANT rds_iam TO "{user}"',
        f'GRANT CONNECT ON DATABASE "{database}" TO "{user}"',
        f'GRANT USAGE, CREATE ON SCHEMA public TO "{user}"',
    ]


def verification_query(user: str, database: str) -> str:
    """One row of 't' when `user` can log in, is in rds_iam, may connect to `database` and create in `public`."""
    statements(user, database)  # the same identifier checks
    return (
        "SELECT r.rolcanlogin, pg_has_role(r.rolname, 'rds_iam', 'member'), "
        f"has_database_privilege(r.rolname, '{database}', 'CONNECT'), "
        "has_schema_privilege(r.rolname, 'public', 'CREATE') "
        f"FROM pg_roles r WHERE r.rolname = '{user}'"
    )


# --- the PostgreSQL protocol ------------------------------------------------------------------------------------------


class Scram:
    """The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it: no channel binding (`n,,`), an
    empty user name (the server uses the startup message's), and the server's signature checked before the session
    is accepted. SASLprep is not applied: for the printable-ASCII passwords RDS generates it is the identity."""

    def __init__(self, password: str, nonce: str | None = None) -> None:
        self._password = password.encode()
        self._nonce = nonce or base64.b64encode(secrets.token_bytes(18)).decode()
        self._first_bare = f"n=,r={self._nonce}"
        self._server_signature: bytes | None = None
        self.verified = False

    def client_first(self) -> bytes:
        return f"n,,{self._first_bare}".encode()

    def client_final(self, server_first: bytes) -> bytes:
        text = server_first.decode()
        attributes = _scram_attributes(text)
        nonce, salt, iterations = attributes.get("r", ""), attributes.get("s", ""), attributes.get("i", "")
        if not nonce.startswith(self._nonce) or len(nonce) <= len(self._nonce):
            raise BootstrapError("SCRAM: the server's nonce does not extend ours")
        if not iterations.isdigit() or int(iterations) < MIN_SCRAM_ITERATIONS:
            raise BootstrapError(f"SCRAM: {iterations!r} iterations, at least {MIN_SCRAM_ITERATIONS} expected")
        salted = hashlib.pbkdf2_hmac("sha256", self._password, base64.b64decode(salt), int(iterations))
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c=biws,r={nonce}"
        auth_message = f"{self._first_bare},{text},{without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        self._server_signature = hmac.new(server_key, auth_message, "sha256").digest()
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify_server(self, server_final: bytes) -> None:
        attributes = _scram_attributes(server_final.decode())
        if "e" in attributes:
            raise BootstrapError(f"SCRAM: the server refused the proof ({attributes['e']})")
        expected = self._server_signature
        if expected is None or not hmac.compare_digest(base64.b64decode(attributes.get("v", "")), expected):
            raise BootstrapError("SCRAM: the server's signature is wrong (not the server that knows the password)")
        self.verified = True


def _scram_attributes(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


class Connection:
    """One authenticated session over verified TLS; `query()` runs the simple query protocol."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self._sock = sock

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._send(b"X", b"")
        except OSError:
            pass
        finally:
            self._sock.close()

    def query(self, sql: str) -> list[list[str | None]]:
        """Run `sql` (simple query protocol); the rows of its last result, as text. A server error raises."""
        self._send(b"Q", sql.encode() + b"\0")
        rows: list[list[str | None]] = []
        error: str | None = None
        while True:
            kind, body = self._receive()
            if kind == b"T":
                rows = []
            elif kind == b"D":
                rows.append(_data_row(body))
            elif kind == b"E":
                error = _error_text(body)
            elif kind == b"Z":
                break
        if error is not None:
            raise BootstrapError(error)
        return rows

    def startup(self, *, user: str, database: str, password: str) -> None:
        parameters = b"".join(
            key + b"\0" + value.encode() + b"\0"
            for key, value in ((b"user", user), (b"database", database), (b"application_name", APPLICATION_NAME))
        )
        payload = struct.pack("!I", PROTOCOL_3_0) + parameters + b"\0"
        self._sock.sendall(struct.pack("!I", len(payload) + 4) + payload)
        scram: Scram | None = None
        while True:
            kind, body = self._receive()
            if kind == b"E":
                raise BootstrapError(_error_text(body))
            if kind != b"R":
                raise BootstrapError(f"protocol: expected an authentication request, got {kind!r}")
            (code,) = struct.unpack("!I", body[:4])
            if code == 0:  # AuthenticationOk
                if scram is not None and not scram.verified:
                    raise BootstrapError("SCRAM: the server accepted the session without proving it knows the password")
                break
            if code == 3:  # cleartext password (inside the verified TLS channel)
                self._send(b"p", password.encode() + b"\0")
            elif code == 5:  # MD5
                inner = hashlib.md5(password.encode() + user.encode()).hexdigest()  # PostgreSQL's md5 scheme
                outer = hashlib.md5(inner.encode() + body[4:8]).hexdigest()
                self._send(b"p", f"md5{outer}".encode() + b"\0")
            elif code == 10:  # SASL: the mechanisms the server offers
                if b"SCRAM-SHA-256" not in body[4:].split(b"\0"):
                    raise BootstrapError("SASL: the server offers no SCRAM-SHA-256")
                scram = Scram(password)
                first = scram.client_first()
                self._send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first)
            elif code == 11 and scram is not None:  # SASLContinue
                self._send(b"p", scram.client_final(body[4:]))
            elif code == 12 and scram is not None:  # SASLFinal
                scram.verify_server(body[4:])
            else:
                raise BootstrapError(f"authentication method {code} is not supported")
        while True:  # ParameterStatus, BackendKeyData, notices, then ReadyForQuery
            kind, body = self._receive()
            if kind == b"E":
                raise BootstrapError(_error_text(body))
            if kind == b"Z":
                return

    def _send(self, kind: bytes, payload: bytes) -> None:
        self._sock.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)

    def _receive(self) -> tuple[bytes, bytes]:
        header = _receive_exactly(self._sock, 5)
        (length,) = struct.unpack("!I", header[1:])
        return header[:1], _receive_exactly(self._sock, length - 4)


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise BootstrapError("the server closed the connection")
        chunks += chunk
    return bytes(chunks)


def _data_row(body: bytes) -> list[str | None]:
    (count,) = struct.unpack("!H", body[:2])
    values: list[str | None] = []
    offset = 2
    for _ in range(count):
        (size,) = struct.unpack("!i", body[offset : offset + 4])
        offset += 4
        if size < 0:
            values.append(None)
        else:
            values.append(body[offset : offset + size].decode())
            offset += size
    return values


def _error_text(body: bytes) -> str:
    fields = {item[:1]: item[1:].decode(errors="replace") for item in body.split(b"\0") if item}
    return f"{fields.get(b'S', 'ERROR')} {fields.get(b'C', '')}: {fields.get(b'M', '')}".strip()


def tls_context(cafile: Path | str) -> ssl.SSLContext:
    """libpq's `sslmode=verify-full`: the chain must end at one of `cafile`'s roots (the system's are not loaded) and
    the certificate must name the host; TLS 1.2 at least."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cafile))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    return context


def connect(
    *, host: str, port: int, user: str, password: str, database: str, cafile: Path | str = CA_FILE
) -> Connection:
    """A session as `user` on `database`, over TLS verified against `cafile` for `host` (never in the clear)."""
    context = tls_context(cafile)
    raw = socket.create_connection((host, port), timeout=TIMEOUT_SECONDS)
    try:
        raw.sendall(struct.pack("!II", 8, SSL_REQUEST_CODE))
        if _receive_exactly(raw, 1) != b"S":
            raise BootstrapError("the server does not offer TLS")
        sock = context.wrap_socket(raw, server_hostname=host)
    except BaseException:
        raw.close()
        raise
    connection = Connection(sock)
    try:
        connection.startup(user=user, database=database, password=password)
    except BaseException:
        sock.close()
        raise
    return connection


# --- the function -----------------------------------------------------------------------------------------------------


def apply(desired: Desired, credentials: tuple[str, str], *, cafile: Path | str = CA_FILE) -> dict[str, Any]:
    """Converge the database to `desired` as the master user `credentials` (user name, password); read it back."""
    master, password = credentials
    with connect(
        host=desired.host, port=desired.port, user=master, password=password, database=desired.database, cafile=cafile
    ) as connection:
        for sql in statements(desired.user, desired.database):
            connection.query(sql)
        rows = connection.query(verification_query(desired.user, desired.database))
    if rows != [["t", "t", "t", "t"]]:
        raise BootstrapError(f"{desired.user} does not have its grants after the bootstrap: {rows}")
    return {"user": desired.user, "database": desired.database, "grants": list(GRANTS), "verified": True}


def master_credentials(secret_arn: str, client: Any = None) -> tuple[str, str]:
    """(user name, password) of the RDS-managed master secret. boto3 is the Lambda runtime's, imported only here."""
    if client is None:
        import boto3  # the runtime's SDK: nothing above needs more than the stdlib

        client = boto3.client("secretsmanager")
    secret = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    return str(secret["username"]), str(secret["password"])


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda entry point (`handler.handler`)."""
    desired = Desired.from_event(event)
    return apply(desired, master_credentials(desired.secret_arn))


def package_files() -> Sequence[Path]:
    """The files of the function's package, at its root: this module and the trust anchors."""
    return (Path(__file__), CA_FILE)
