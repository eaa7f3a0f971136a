"""The official SDK against a server whose CA keys live in a PKCS#11 token
(SoftHSM2 in the suite). OPENCCM_PHASE says which part to run:

- "before": an SM2 CA is refused with a clear error (the token has no SM2
  mechanism); a root and a subordinate CA are created in the token; a
  certificate is issued, exported (its key is exportable, so it comes from
  software) and verified by OpenSSL up to the root; a pending CA is deleted
  (the harness checks that its token key went with it).
- "after": the same server restarted: the CAs found by name still sign (a
  new certificate verifies up to the same root), and the first one is
  revoked and reported so by the OCSP responder the certificate names."""

import os
import subprocess
import tempfile

from huaweicloudsdkccm.v1 import *  # noqa: F401,F403 (the SDK's documented import)

from common import check, client, expect_error

pca = client(CcmClient.new_builder())
work = tempfile.mkdtemp()
PHASE = os.environ["OPENCCM_PHASE"]
ENDPOINT = os.environ["OPENCCM_ENDPOINT"].rstrip("/")


def openssl(*args, stderr=False):
    out = subprocess.run(["openssl", *args], cwd=work, capture_output=True, text=True)
    check(out.returncode == 0, f"openssl {args}: {out.stderr}{out.stdout}")
    return out.stdout + (out.stderr if stderr else "")


def write(name, text):
    with open(os.path.join(work, name), "w") as f:
        f.write(text)


def dn(cn):
    return DistinguishedName(common_name=cn, country="CN", state="Guangdong", locality="Shenzhen",
                             organization="Example", organizational_unit="IT")


def ca_named(cn):
    listed = pca.list_certificate_authority(ListCertificateAuthorityRequest(limit=100))
    found = [ca for ca in listed.certificate_authorities if ca.distinguished_name.common_name == cn]
    check(len(found) == 1, f"one CA named {cn}: {listed}")
    return found[0].ca_id


def issue_and_verify(sub, root, cn):
    cert = pca.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(
        issuer_id=sub, key_algorithm="EC256", signature_algorithm="SHA256",
        distinguished_name=CertDistinguishedName(common_name=cn),
        validity=Validity(type="DAY", value=30)))).certificate_id
    out = pca.export_certificate(ExportCertificateRequest(certificate_id=cert, body=ExportCertificateRequestBody(
        is_compressed="false", type="OTHER")))
    check(out.private_key.startswith("-----BEGIN PRIVATE KEY-----"), "the leaf key is exported")
    write("leaf.pem", out.certificate)
    write("leaf.key", out.private_key)
    write("chain.pem", out.certificate_chain)
    root_pem = pca.export_certificate_authority_certificate(
        ExportCertificateAuthorityCertificateRequest(ca_id=root)).certificate
    write("root.pem", root_pem)
    openssl("verify", "-x509_strict", "-CAfile", "root.pem", "-untrusted", "chain.pem", "leaf.pem")
    # The exported key is the certificate's.
    check(openssl("x509", "-in", "leaf.pem", "-noout", "-pubkey") == openssl("pkey", "-in", "leaf.key", "-pubout"),
          "the exported key matches the certificate")
    return cert


if PHASE == "before":
    e = expect_error(lambda: pca.create_certificate_authority(CreateCertificateAuthorityRequest(
        body=CreateCertificateAuthorityRequestBody(
            type="ROOT", key_algorithm="SM2", signature_algorithm="SM3", distinguished_name=dn("HSM SM2 Root"),
            validity=Validity(type="YEAR", value=10)))), 400, "PCA.00020102")
    check("SM2" in e.error_msg and "PKCS#11" in e.error_msg, f"a clear refusal: {e.error_msg}")
    listed = pca.list_certificate_authority(ListCertificateAuthorityRequest(limit=100))
    check(all(ca.distinguished_name.common_name != "HSM SM2 Root" for ca in listed.certificate_authorities),
          "nothing was made")
    root = pca.create_certificate_authority(CreateCertificateAuthorityRequest(body=CreateCertificateAuthorityRequestBody(
        type="ROOT", key_algorithm="RSA2048", signature_algorithm="SHA256", distinguished_name=dn("HSM Root"),
        validity=Validity(type="YEAR", value=10)))).ca_id
    sub = pca.create_certificate_authority(CreateCertificateAuthorityRequest(body=CreateCertificateAuthorityRequestBody(
        type="SUBORDINATE", key_algorithm="EC256", signature_algorithm="SHA256", issuer_id=root, path_length=0,
        distinguished_name=dn("HSM Sub"), validity=Validity(type="YEAR", value=5)))).ca_id
    pca.update_ocsp_switch(UpdateOcspSwitchRequest(ca_id=sub, body=UpdateOcspSwitchRequestBody(ocsp_switch=True)))
    issue_and_verify(sub, root, "before.example.com")
    # A pending CA deleted at once takes its token key along.
    gone = pca.create_certificate_authority(CreateCertificateAuthorityRequest(
        body=CreateCertificateAuthorityRequestBody(type="SUBORDINATE", key_algorithm="EC384",
                                                   distinguished_name=dn("HSM Gone")))).ca_id
    pca.delete_certificate_authority(DeleteCertificateAuthorityRequest(ca_id=gone))
    print(f"deleted pending CA: {gone}")
else:
    root, sub = ca_named("HSM Root"), ca_named("HSM Sub")
    issue_and_verify(sub, root, "after.example.com")
    listed = pca.list_certificate(ListCertificateRequest(name="before"))
    check(listed.total == 1, f"the certificate issued before the restart: {listed}")
    first = listed.certificates[0].certificate_id
    out = pca.export_certificate(ExportCertificateRequest(certificate_id=first, body=ExportCertificateRequestBody(
        is_compressed="false", type="OTHER")))
    pca.revoke_certificate(RevokeCertificateRequest(certificate_id=first, body=RevokeCertificateRequestBody(
        reason="KEY_COMPROMISE")))
    write("first.pem", out.certificate)
    write("sub.pem", out.certificate_chain.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n")
    # The certificate names the server's address before the restart (a
    # fresh port each run here): same path, today's address.
    url = openssl("x509", "-in", "first.pem", "-noout", "-ocsp_uri").strip()
    url = ENDPOINT + "/" + url.split("/", 3)[3]
    text = openssl("ocsp", "-issuer", "sub.pem", "-cert", "first.pem", "-url", url, "-CAfile", "root.pem",
                   "-verify_other", "sub.pem", "-no_nonce", stderr=True)
    check("Response verify OK" in text and "first.pem: revoked" in text, f"openssl ocsp: {text}")

print(f"pca pkcs11 {PHASE}: ok")
