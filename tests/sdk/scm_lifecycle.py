"""The official SDK (huaweicloudsdkscm) runs SCM: certificates of every
supported algorithm (RSA 2048/3072/4096, EC P-256/P-384, SM2 dual
certificates), issued by OpenCCM's private CA through huaweicloudsdkccm,
go through import -> list -> show -> export -> delete, and the exported PEM
equals what was imported byte for byte. Bad inputs get their documented 4xx
and leave the list unchanged. Tags, CSRs and notifications through the SDK."""

import os

from huaweicloudsdkccm.v1 import (CcmClient, CreateCertificateAuthorityRequest,
                                  CreateCertificateAuthorityRequestBody, CreateCertificateRequest,
                                  CreateCertificateRequestBody, DistinguishedName, ExportCertificateRequest,
                                  ExportCertificateRequestBody, ExportCertificateAuthorityCertificateRequest,
                                  Validity)
from huaweicloudsdkccm.v1 import ExportCertificateRequest as PcaExportRequest
from huaweicloudsdkscm.v3 import *  # noqa: F401,F403 (the SDK's documented import)
from huaweicloudsdkscm.v3 import ExportCertificateRequest as ScmExportRequest

from common import DOMAIN_ID, check, client, expect_error

pca = client(CcmClient.new_builder())
scm = client(ScmClient.new_builder())


def count():
    return scm.list_certificates(ListCertificatesRequest(limit=50)).total_count


def pca_certificate(key_algorithm, hash_algorithm):
    """Issues a certificate of `key_algorithm` under a fresh root of the same
    algorithm and exports it as PEM (certificate, chain, key[, enc pair])."""
    root = pca.create_certificate_authority(CreateCertificateAuthorityRequest(
        body=CreateCertificateAuthorityRequestBody(
            type="ROOT", key_algorithm=key_algorithm, signature_algorithm=hash_algorithm,
            distinguished_name=DistinguishedName(common_name=f"SCM {key_algorithm} Root", country="CN",
                                                 state="GD", locality="SZ", organization="OpenCCM",
                                                 organizational_unit="PKI"),
            validity=Validity(type="YEAR", value=3)))).ca_id
    issued = pca.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(
        issuer_id=root, key_algorithm=key_algorithm, signature_algorithm=hash_algorithm,
        distinguished_name=DistinguishedName(common_name=f"{key_algorithm.lower()}.example.com"),
        validity=Validity(type="DAY", value=90)))).certificate_id
    return pca.export_certificate(PcaExportRequest(
        certificate_id=issued, body=ExportCertificateRequestBody(is_compressed="false", type="OTHER")))


before = count()
imported = []
# OPENCCM_CA_ALGORITHMS leaves out what the server's CAs cannot be (SM2 with
# CA keys in a PKCS#11 token).
ALGORITHMS = os.environ.get("OPENCCM_CA_ALGORITHMS", "RSA2048,RSA3072,RSA4096,EC256,EC384,SM2").split(",")
for key_algorithm, hash_algorithm in [(a, h) for a, h in [
        ("RSA2048", "SHA256"), ("RSA3072", "SHA384"), ("RSA4096", "SHA512"),
        ("EC256", "SHA256"), ("EC384", "SHA384"), ("SM2", "SM3")] if a in ALGORITHMS]:
    pem = pca_certificate(key_algorithm, hash_algorithm)
    body = ImportCertificateRequestBody(
        name=f"sdk-{key_algorithm.lower()}", certificate=pem.certificate, certificate_chain=pem.certificate_chain,
        private_key=pem.private_key, duplicate_check=True)
    if key_algorithm == "SM2":
        body.enc_certificate = pem.enc_certificate
        body.enc_private_key = pem.enc_private_key
    cert_id = scm.import_certificate(ImportCertificateRequest(body=body)).certificate_id
    check(len(cert_id) == 16 and cert_id.startswith("scs") and cert_id[3:].isdigit(), f"id {cert_id}")

    shown = scm.show_certificate(ShowCertificateRequest(certificate_id=cert_id))
    check(shown.id == cert_id and shown.status == "UPLOAD", f"show {shown}")
    check(shown.domain == f"{key_algorithm.lower()}.example.com", f"domain {shown.domain}")
    check(len(shown.fingerprint) == 40, "SHA-1 fingerprint")
    check(shown.enterprise_project_id == "0", "default project")

    exported = scm.export_certificate(ScmExportRequest(certificate_id=cert_id))
    check(exported.certificate == pem.certificate, f"{key_algorithm}: certificate byte for byte")
    check(exported.certificate_chain == pem.certificate_chain, f"{key_algorithm}: chain byte for byte")
    check(exported.private_key == pem.private_key, f"{key_algorithm}: private key byte for byte")
    check(exported.entire_certificate.startswith(pem.certificate)
          and exported.entire_certificate.endswith(pem.certificate_chain), "entire certificate")
    if key_algorithm == "SM2":
        check(exported.enc_certificate == pem.enc_certificate, "SM2: encryption certificate byte for byte")
        check(exported.enc_private_key == pem.enc_private_key, "SM2: encryption key byte for byte")
    else:
        check(exported.enc_certificate is None and exported.enc_private_key is None, "no SM fields")
    imported.append((cert_id, body))

listed = scm.list_certificates(ListCertificatesRequest(limit=10, sort_key="certExpiredTime", sort_dir="ASC"))
check(listed.total_count == before + len(imported), f"list total {listed.total_count}")
check({c.id for c in listed.certificates} >= {i for i, _ in imported}, "every import is listed")
check(all(c.domain_id == DOMAIN_ID for c in listed.certificates), "owner")

# Duplicate check: the same certificate again is refused.
expect_error(lambda: scm.import_certificate(ImportCertificateRequest(body=imported[0][1])), 400, "SCM.9002")

# Bad inputs: the documented code, nothing stored.
good = imported[3][1]


def bad(**changes):
    fields = {k: getattr(good, k) for k in ("name", "certificate", "certificate_chain", "private_key")}
    fields.update(changes)
    return ImportCertificateRequest(body=ImportCertificateRequestBody(**fields))


expect_error(lambda: scm.import_certificate(bad(certificate="garbage")), 400, "SCM.0053")
expect_error(lambda: scm.import_certificate(bad(private_key=imported[4][1].private_key)), 400, "SCM.0012")
expect_error(lambda: scm.import_certificate(bad(private_key="no markers")), 400, "SCM.0114")
expect_error(lambda: scm.import_certificate(bad(certificate_chain=imported[0][1].certificate_chain)), 400, "SCM.0079")
expect_error(lambda: scm.show_certificate(ShowCertificateRequest(certificate_id="scs123")), 404, "SCM.0021")
expect_error(lambda: scm.export_certificate(ScmExportRequest(certificate_id="scs0000000000001")), 404, "SCM.0021")
check(count() == before + len(imported), "bad inputs stored nothing")

# Tags.
first = imported[0][0]
scm.create_certificate_tag(CreateCertificateTagRequest(
    resource_id=first, body=CreateCertificateTagRequestBody(tag=ScsResourceTag(key="env", value="prod"))))
scm.batch_create_or_delete_tags(BatchCreateOrDeleteTagsRequest(
    resource_id=first, body=BatchCreateOrDeleteTagsRequestBody(
        action="create", tags=[ScsResourceTag(key="team", value="web")])))
tags = scm.list_tags_by_certificate(ListTagsByCertificateRequest(resource_id=first)).tags
check(sorted((t.key, t.value) for t in tags) == [("env", "prod"), ("team", "web")], f"tags {tags}")
check(any(t.key == "env" for t in scm.list_all_tags(ListAllTagsRequest()).tags), "all tags")
found = scm.list_certificates_by_tag(ListCertificatesByTagRequest(
    resource_instances="resource_instances", body=ListCertificatesByTagRequestBody(
        action="filter", tags=[ScsTag(key="env", values=["prod"])])))
check(found.total_count == 1 and found.resources[0].resource_id == first, f"by tag {found}")

# Notifications.
scm.enable_notification(EnableNotificationRequest(
    body=[NoticeRequestBody(resource_id=first, notice_type=["CERT_EXPIRING"])]))
scm.disable_notification(DisableNotificationRequest(
    body=[NoticeRequestBody(resource_id=first, notice_type=["CERT_EXPIRING"])]))

# CSRs.
created = scm.create_csr(CreateCsrRequest(body=CreateCsrRequestBody(
    name="sdk-csr", domain_name="csr.example.com", private_key_algo="EC_P256", usage="PERSONAL")))
check(len(created.id) == 32 and created.private_key_algo == "EC_P256", "create csr")
shown_csr = scm.show_csr(ShowCsrRequest(id=created.id))
check(shown_csr.name == "sdk-csr" and shown_csr.csr.startswith("-----BEGIN CERTIFICATE REQUEST-----"), "show csr")
check(scm.update_csr(UpdateCsrRequest(id=created.id, body=UpdateCSRRequestBody(name="renamed"))).name == "renamed",
      "rename csr")
check(scm.list_csr(ListCsrRequest(limit=10)).total >= 1, "list csr")
key = scm.show_csr_private_key(ShowCsrPrivateKeyRequest(id=created.id)).private_key
check(key.startswith("-----BEGIN PRIVATE KEY-----"), "csr key")
scm.delete_csr(DeleteCsrRequest(id=created.id))
expect_error(lambda: scm.show_csr(ShowCsrRequest(id=created.id)), 404)

# Delete everything imported.
for cert_id, _ in imported:
    scm.delete_certificate(DeleteCertificateRequest(certificate_id=cert_id))
    expect_error(lambda: scm.show_certificate(ShowCertificateRequest(certificate_id=cert_id)), 404, "SCM.0021")
check(count() == before, "deleted")
print("scm lifecycle: ok")
