"""A certificate revoked through the official SDK (huaweicloudsdkccm) is
reported revoked by `openssl ocsp` at the URL the certificate carries, and
listed on the CRLs at the CA's crl_dis_point (OpenSSL's verify rejects it),
within a second of the SDK's revoke call returning: RSA, EC and SM2 CAs.

With OPENCCM_OBSERVER_ENDPOINT (another server on the same database), the
same is asked of that server too: the URLs with its address. With
OPENCCM_CA_ALGORITHMS (say "RSA2048,EC256" for a PKCS#11 token without SM2),
only those CAs."""

import os
import subprocess
import tempfile
import time
import urllib.request

from huaweicloudsdkccm.v1 import *  # noqa: F401,F403 (the SDK's documented import)

from common import check, client

pca = client(CcmClient.new_builder())
ENDPOINT = os.environ["OPENCCM_ENDPOINT"]
OBSERVERS = [ENDPOINT] + [e for e in [os.environ.get("OPENCCM_OBSERVER_ENDPOINT")] if e]


def run(work, *args):
    out = subprocess.run(["openssl", *args], cwd=work, capture_output=True, text=True)
    return out.returncode, out.stdout + out.stderr


def fetch_pem(work, url, name):
    with urllib.request.urlopen(url, timeout=10) as r:
        check(r.headers["Content-Type"] == "application/pkix-crl", f"{url}: {r.headers['Content-Type']}")
        der = r.read()
    with open(os.path.join(work, name + ".der"), "wb") as f:
        f.write(der)
    code, out = run(work, "crl", "-inform", "DER", "-in", name + ".der", "-out", name + ".pem")
    check(code == 0, out)
    with open(os.path.join(work, name + ".pem")) as f:
        return f.read()


ALGORITHMS = os.environ.get("OPENCCM_CA_ALGORITHMS", "RSA2048,EC256,SM2").split(",")
for alg, sig in [(a, "SM3" if a == "SM2" else "SHA256") for a in ALGORITHMS]:
    work = tempfile.mkdtemp()
    ca = pca.create_certificate_authority(CreateCertificateAuthorityRequest(body=CreateCertificateAuthorityRequestBody(
        type="ROOT", key_algorithm=alg, signature_algorithm=sig, validity=Validity(type="YEAR", value=10),
        distinguished_name=DistinguishedName(common_name=f"SDK {alg} Revocation Root", country="CN",
                                             state="Guangdong", locality="Shenzhen", organization="Example",
                                             organizational_unit="IT"),
        crl_configuration=CrlConfiguration(enabled=True, obs_bucket_name="crl-bucket", valid_days=7)))).ca_id
    pca.update_ocsp_switch(UpdateOcspSwitchRequest(ca_id=ca, body=UpdateOcspSwitchRequestBody(ocsp_switch=True)))
    crl_url = pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=ca)).crl_configuration.crl_dis_point
    check(crl_url and crl_url.endswith(".crl"), f"crl_dis_point {crl_url!r}")
    exported = pca.export_certificate_authority_certificate(ExportCertificateAuthorityCertificateRequest(ca_id=ca))
    with open(os.path.join(work, "ca.pem"), "w") as f:
        f.write(exported.certificate)
    cert = pca.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(
        issuer_id=ca, key_algorithm=alg, signature_algorithm=sig,
        distinguished_name=CertDistinguishedName(common_name="revoked.example.com"),
        validity=Validity(type="DAY", value=30)))).certificate_id
    out = pca.export_certificate(ExportCertificateRequest(certificate_id=cert, body=ExportCertificateRequestBody(
        is_compressed="false", type="OTHER")))
    with open(os.path.join(work, "cert.pem"), "w") as f:
        f.write(out.certificate)
    code, ocsp_url = run(work, "x509", "-in", "cert.pem", "-noout", "-ocsp_uri")
    ocsp_url = ocsp_url.strip()
    code, text = run(work, "x509", "-in", "cert.pem", "-noout", "-ext", "crlDistributionPoints")
    check(crl_url in text, f"the certificate carries {crl_url}: {text}")

    def ocsp_status(url):
        # SM2: OpenSSL 3.0's command line verifies SM2 with an empty user id;
        # the Rust suite checks SM2 signatures with an independent verifier.
        args = ["ocsp", "-issuer", "ca.pem", "-cert", "cert.pem", "-url", url, "-CAfile", "ca.pem", "-no_nonce"]
        if alg == "SM2":
            args.append("-noverify")
        code, text = run(work, *args)
        check(code == 0 and (alg == "SM2" or "Response verify OK" in text), f"openssl ocsp: {text}")
        return next(line.split(": ", 1)[1].strip() for line in text.splitlines() if line.startswith("cert.pem: "))

    def at(observer, url):
        return url.replace(ENDPOINT, observer, 1)

    for observer in OBSERVERS:
        check(ocsp_status(at(observer, ocsp_url)) == "good", f"{alg}: good at {observer} before the revoke")
    pca.revoke_certificate(RevokeCertificateRequest(certificate_id=cert, body=RevokeCertificateRequestBody(
        reason="KEY_COMPROMISE")))
    answered = time.monotonic()
    code, serial = run(work, "x509", "-in", "cert.pem", "-noout", "-serial")
    serial = serial.strip().split("=", 1)[1]
    for observer in OBSERVERS:
        status = ocsp_status(at(observer, ocsp_url))
        full_url = at(observer, crl_url)
        crls = fetch_pem(work, full_url, "full") + fetch_pem(work, full_url[:-len(".crl")] + "-delta.crl", "delta")
        elapsed = time.monotonic() - answered
        check(status == "revoked", f"{alg}: OCSP at {observer} says {status} after the revoke")
        with open(os.path.join(work, "crls.pem"), "w") as f:
            f.write(crls)
        listing = run(work, "crl", "-in", "full.pem", "-noout", "-text")[1] + run(
            work, "crl", "-in", "delta.pem", "-noout", "-text")[1]
        check(listing.count(f"Serial Number: {serial}") == 1, f"{alg}: the CRLs at {observer} list {serial} once")
        if alg != "SM2":
            code, text = run(work, "verify", "-crl_check", "-extended_crl", "-use_deltas", "-CAfile", "ca.pem",
                             "-CRLfile", "crls.pem", "cert.pem")
            check(code != 0 and "certificate revoked" in text,
                  f"{alg}: openssl verify -crl_check at {observer}: {text}\n{listing}")
        check(elapsed < 1.0, f"{alg}: {elapsed:.3f} s from the revoke to {observer}'s OCSP and CRLs saying so")

print("pca revocation: ok")
