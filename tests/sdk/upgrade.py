"""A store written by an older OpenCCM (the fixture in
crates/openccm-server/tests/fixtures/upgrade-a563f8b, made by commit a563f8b
running pca_lifecycle.py, pca_revocation.py, scm_lifecycle.py and a few SCM
imports and a CSR) serves unchanged after this version's upgrade: every
record reads back, the keys sealed then still open (CA keys sign, issued
keys export, SM2 envelopes form), and what is new works on old data
(issuing, revoking, OCSP)."""

import os
import subprocess
import tempfile

from huaweicloudsdkscm.v3 import *  # noqa: F401,F403 (the SDK's documented import)
from huaweicloudsdkccm.v1 import *  # noqa: F401,F403
from huaweicloudsdkccm.v1 import ExportCertificateRequest as PcaExportRequest
from huaweicloudsdkscm.v3 import ExportCertificateRequest as ScmExportRequest
from huaweicloudsdkscm.v3 import ListCertificatesRequest as ScmListRequest

from common import check, client

pca = client(CcmClient.new_builder())
scm = client(ScmClient.new_builder())
work = tempfile.mkdtemp()
ENDPOINT = os.environ["OPENCCM_ENDPOINT"].rstrip("/")


def openssl(*args):
    out = subprocess.run(["openssl", *args], cwd=work, capture_output=True, text=True)
    check(out.returncode == 0, f"openssl {args}: {out.stderr}{out.stdout}")
    return out.stdout + out.stderr


def write(name, text):
    with open(os.path.join(work, name), "w") as f:
        f.write(text)


# --- everything the old version wrote reads back -------------------------------
cas = pca.list_certificate_authority(ListCertificateAuthorityRequest(limit=100))
check(cas.total == 13, f"13 CAs, got {cas.total}")
by_name = {ca.distinguished_name.common_name: ca for ca in cas.certificate_authorities}
check(by_name["SDK Sub"].status == "ACTIVED" and by_name["SDK Sub"].key_algorithm == "EC256", "SDK Sub")
check(by_name["SDK External Sub"].status == "REVOKED", "a revoked CA stays revoked")
check(by_name["SDK Pending"].status == "DISABLED", "a disabled CA stays disabled")
check(by_name["SDK SM2 Revocation Root"].key_algorithm == "SM2", "an SM2 CA")
shown = pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=by_name["SDK Sub"].ca_id))
check(shown.issuer_name == "SDK Root" and shown.path_length == 0, f"show {shown}")

certs = pca.list_certificate(ListCertificateRequest(limit=100))
check(certs.total == 10, f"10 certificates, got {certs.total}")
statuses = sorted(c.status for c in certs.certificates)
check(statuses.count("REVOKED") == 3 and statuses.count("ISSUED") == 7, f"statuses {statuses}")
issued = {c.distinguished_name.common_name: c for c in certs.certificates if c.status == "ISSUED"}
www = pca.show_certificate(ShowCertificateRequest(certificate_id=issued["www.example.com"].certificate_id))
check(www.key_algorithm == "RSA2048" and www.gen_mode == "GENERATE" and www.issuer_name == "SDK Sub", f"{www}")

# --- keys sealed by the old version still open -----------------------------------
out = pca.export_certificate(PcaExportRequest(certificate_id=www.certificate_id, body=ExportCertificateRequestBody(
    is_compressed="false", type="OTHER")))
write("www.pem", out.certificate)
write("www.key", out.private_key)
check(openssl("x509", "-in", "www.pem", "-noout", "-pubkey") == openssl("pkey", "-in", "www.key", "-pubout"),
      "an old issued key exports and matches its certificate")
sm2 = pca.export_certificate(PcaExportRequest(certificate_id=issued["sm2.example.com"].certificate_id,
                                              body=ExportCertificateRequestBody(is_compressed="false", type="OTHER",
                                                                                is_sm_standard="true")))
check(sm2.enc_sm2_enveloped_key and sm2.signed_and_enveloped_data, "an old SM2 pair envelopes its encryption key")

# Old CA keys sign: a new certificate from the old subordinate verifies up to
# the old root.
new = pca.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(
    issuer_id=by_name["SDK Sub"].ca_id, key_algorithm="EC256", signature_algorithm="SHA256",
    distinguished_name=CertDistinguishedName(common_name="after-upgrade.example.com"),
    validity=Validity(type="DAY", value=30)))).certificate_id
out = pca.export_certificate(PcaExportRequest(certificate_id=new, body=ExportCertificateRequestBody(
    is_compressed="false", type="OTHER")))
write("new.pem", out.certificate)
write("chain.pem", out.certificate_chain)
openssl("verify", "-x509_strict", "-CAfile", "chain.pem", "new.pem")
sm2_new = pca.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(
    issuer_id=by_name["SDK SM2 Revocation Root"].ca_id, key_algorithm="SM2", signature_algorithm="SM3",
    distinguished_name=CertDistinguishedName(common_name="sm2-after-upgrade.example.com"),
    validity=Validity(type="DAY", value=30)))).certificate_id
check(pca.show_certificate(ShowCertificateRequest(certificate_id=sm2_new)).status == "ISSUED", "an old SM2 CA signs")

# Revoking an old certificate: the old CA's OCSP responder says so.
pca.update_ocsp_switch(UpdateOcspSwitchRequest(ca_id=by_name["SDK Sub"].ca_id,
                                               body=UpdateOcspSwitchRequestBody(ocsp_switch=True)))
pca.revoke_certificate(RevokeCertificateRequest(certificate_id=www.certificate_id,
                                                body=RevokeCertificateRequestBody(reason="SUPERSEDED")))
write("sub.pem", pca.export_certificate_authority_certificate(
    ExportCertificateAuthorityCertificateRequest(ca_id=by_name["SDK Sub"].ca_id)).certificate)
# The certificate predates the CA's OCSP switch, so it names no responder:
# ask the CA's.
url = f"{ENDPOINT}/pca/ocsp/{by_name['SDK Sub'].ca_id}"
text = openssl("ocsp", "-issuer", "sub.pem", "-cert", "www.pem", "-url", url, "-CAfile", "chain.pem",
               "-verify_other", "sub.pem", "-no_nonce")
check("Response verify OK" in text and "www.pem: revoked" in text, f"openssl ocsp: {text}")

# --- SCM --------------------------------------------------------------------------
listed = scm.list_certificates(ScmListRequest(limit=50))
check(listed.total_count == 2, f"2 SCM certificates, got {listed.total_count}")
for cert in listed.certificates:
    exported = scm.export_certificate(ScmExportRequest(certificate_id=cert.id))
    check(exported.private_key and exported.private_key.startswith("-----BEGIN"), f"{cert.name}: key")
    if cert.name == "upgrade-sm2":
        check(exported.enc_certificate and exported.enc_private_key, "the SM2 pair's encryption half")
    # The alternative names moved from one ';'-joined column to a list (store
    # migration 0011): the API still shows the domain plus the others, and
    # together they are the certificate's own names.
    write("scm.pem", exported.certificate)
    sans = openssl("x509", "-in", "scm.pem", "-noout", "-ext", "subjectAltName")
    in_cert = {part.split(":", 1)[1].strip() for part in sans.split("\n", 1)[-1].split(",") if ":" in part}
    shown = {cert.domain, *[n for n in (cert.sans or "").split(";") if n]}
    check(shown == in_cert | {cert.domain}, f"{cert.name}: sans {cert.sans!r}, domain {cert.domain!r}, certificate {in_cert}")
csrs = scm.list_csr(ListCsrRequest())
check(csrs.total == 1 and csrs.csr_list[0].name == "upgrade-csr", f"CSRs {csrs}")
check(csrs.csr_list[0].sans == "a.example.com;b.example.com", f"SANs as written: {csrs.csr_list[0].sans!r}")
key = scm.show_csr_private_key(ShowCsrPrivateKeyRequest(id=csrs.csr_list[0].id))
check(key.private_key.startswith("-----BEGIN PRIVATE KEY-----"), "the old CSR's key opens")

print("upgrade: ok")
