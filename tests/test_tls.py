"""Direct HTTPS: `main.py --ssl-certfile --ssl-keyfile` serves pages, the API and the SSE stream
over TLS with a certificate made here (self-signed, for 127.0.0.1). The nginx path is documented
in docs/DEPLOY.md and deploy/nginx.conf."""
from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
import time

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import ARTIFACTS, ROOT, free_port, stop_process
from tests.test_auth import TOKEN, bearer


def self_signed(dir_) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "server-monitor test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    certfile, keyfile = dir_ / "cert.pem", dir_ / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    keyfile.chmod(0o600)
    return str(certfile), str(keyfile)


@pytest.fixture
def https_server(tmp_path):
    certfile, keyfile = self_signed(tmp_path)
    port = free_port()
    env = {**os.environ, "SERVER_MONITOR_TICK": "1", "SERVER_MONITOR_TOKEN": TOKEN}
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"server-tls-{port}.log", "ab")
    proc = subprocess.Popen([sys.executable, "main.py", "--host", "127.0.0.1", "--port", str(port),
                             "--ssl-certfile", certfile, "--ssl-keyfile", keyfile],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    ctx = ssl.create_default_context(cafile=certfile)  # verify against our own certificate
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, "server exited early"
            try:
                if httpx.get(url + "/healthz", verify=ctx, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "HTTPS server did not answer in 20 s"
                time.sleep(0.1)
        yield url, ctx, port
    finally:
        stop_process(proc)
        log.close()


def test_https_serves_api_pages_and_stream(https_server):
    url, ctx, port = https_server
    with httpx.Client(verify=ctx, timeout=10, headers=bearer(TOKEN)) as c:
        r = c.get(url + "/api/cpu")
        assert r.status_code == 200 and r.json()["cpu"]["count"] >= 1
        assert r.extensions["http_version"] == b"HTTP/1.1"
        assert c.get(url + "/dashboard").headers["content-security-policy"].startswith("default-src")
        with c.stream("GET", url + "/stream") as s:
            assert s.headers["content-type"].startswith("text/event-stream")
            lines = s.iter_lines()
            assert any(next(lines).startswith("event: ") for _ in range(50))
    # The certificate is what we made (not a default one), and TLS is what answers.
    with httpx.Client(verify=False, timeout=5) as c:
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=3).raise_for_status()
    with pytest.raises(httpx.ConnectError):  # verification against the system CAs fails
        httpx.get(url + "/healthz", timeout=3)


def test_cert_without_key_is_refused(tmp_path):
    certfile, _ = self_signed(tmp_path)
    proc = subprocess.run([sys.executable, "main.py", "--port", str(free_port()),
                           "--ssl-certfile", certfile], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0 and "--ssl-certfile and --ssl-keyfile go together" in proc.stderr
