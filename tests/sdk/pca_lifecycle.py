"""The official SDK (huaweicloudsdkccm) drives a whole private-CA lifecycle:
root and subordinate CAs (at once, pending + activate, pending + CSR export
+ import of an externally signed certificate), certificates issued both ways,
list, show, export of every type, revoke, delete, CA state changes, quotas."""

import os
import subprocess
import tempfile
import uuid

from huaweicloudsdkccm.v1 import *  # noqa: F401,F403 (the SDK's documented import)

from common import DOMAIN_ID, check, client, expect_error

pca = client(CcmClient.new_builder())
work = tempfile.mkdtemp()


def openssl(*args):
    out = subprocess.run(["openssl", *args], cwd=work, capture_output=True, text=True)
    check(out.returncode == 0, f"openssl {args}: {out.stderr}")
    return out.stdout


def write(name, text):
    with open(os.path.join(work, name), "w") as f:
        f.write(text)


def dn(cn):
    return DistinguishedName(common_name=cn, country="CN", state="Guangdong", locality="Shenzhen",
                             organization="示例组织", organizational_unit="IT")


def create_ca(body):
    return pca.create_certificate_authority(CreateCertificateAuthorityRequest(body=body)).ca_id


# --- CAs ---------------------------------------------------------------------
root = create_ca(CreateCertificateAuthorityRequestBody(
    type="ROOT", key_algorithm="RSA2048", signature_algorithm="SHA256", distinguished_name=dn("SDK Root"),
    validity=Validity(type="YEAR", value=10)))
shown = pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=root))
check(shown.status == "ACTIVED" and shown.type == "ROOT" and shown.path_length == 7, f"root {shown}")
check(shown.domain_id == DOMAIN_ID, "owner")
check(shown.distinguished_name.organization == "示例组织", "UTF-8 names")

sub = create_ca(CreateCertificateAuthorityRequestBody(
    type="SUBORDINATE", key_algorithm="EC256", signature_algorithm="SHA256", issuer_id=root, path_length=0,
    distinguished_name=dn("SDK Sub"), validity=Validity(type="YEAR", value=5)))
shown = pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=sub))
check(shown.status == "ACTIVED" and shown.issuer_id == root and shown.issuer_name == "SDK Root", f"sub {shown}")

pending = create_ca(CreateCertificateAuthorityRequestBody(
    type="SUBORDINATE", key_algorithm="EC384", distinguished_name=dn("SDK Pending")))
check(pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=pending)).status == "PENDING", "pending")
csr = pca.export_certificate_authority_csr(ExportCertificateAuthorityCsrRequest(ca_id=pending)).csr
check(csr.startswith("-----BEGIN CERTIFICATE REQUEST-----"), "CA CSR")
pca.issue_certificate_authority_certificate(IssueCertificateAuthorityCertificateRequest(
    ca_id=pending, body=IssueCertificateAuthorityCertificateRequestBody(
        issuer_id=root, signature_algorithm="SHA384", validity=Validity(type="YEAR", value=2), path_length=0)))
check(pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=pending)).status == "ACTIVED", "activated")

external = create_ca(CreateCertificateAuthorityRequestBody(
    type="SUBORDINATE", key_algorithm="RSA2048", distinguished_name=dn("SDK External Sub")))
write("ext.csr", pca.export_certificate_authority_csr(ExportCertificateAuthorityCsrRequest(ca_id=external)).csr)
openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ext.key", "-out", "ext.pem", "-days", "365",
        "-subj", "/CN=SDK External Root", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
write("ca.cnf", "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n")
openssl("x509", "-req", "-in", "ext.csr", "-CA", "ext.pem", "-CAkey", "ext.key", "-CAcreateserial", "-days", "100",
        "-extfile", "ca.cnf", "-out", "extsub.pem")
pca.import_certificate_authority_certificate(ImportCertificateAuthorityCertificateRequest(
    ca_id=external, body=ImportCertificateAuthorityCertificateRequestBody(
        certificate=open(os.path.join(work, "extsub.pem")).read(),
        certificate_chain=open(os.path.join(work, "ext.pem")).read())))
check(pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=external)).status == "ACTIVED", "imported")

listed = pca.list_certificate_authority(ListCertificateAuthorityRequest(limit=10, type="SUBORDINATE", sort_key="common_name", sort_dir="ASC"))
check(listed.total == 3, f"three subordinates, got {listed.total}")
check([c.distinguished_name.common_name for c in listed.certificate_authorities] ==
      ["SDK External Sub", "SDK Pending", "SDK Sub"], "sorted by name")
exported = pca.export_certificate_authority_certificate(ExportCertificateAuthorityCertificateRequest(ca_id=sub))
check("\r\n" in exported.certificate and exported.certificate_chain.count("BEGIN CERTIFICATE") == 1, "CA export")
quota = pca.show_certificate_authority_quota(ShowCertificateAuthorityQuotaRequest())
check(quota.quotas.resources[0].used == 4, f"CA quota {quota}")

# --- certificates ------------------------------------------------------------
issued = pca.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(
    issuer_id=sub, key_algorithm="RSA2048", signature_algorithm="SHA256",
    distinguished_name=CertDistinguishedName(common_name="www.example.com", organization="示例组织"),
    validity=Validity(type="YEAR", value=1), key_usages=["digitalSignature", "keyEncipherment"],
    subject_alternative_names=[SubjectAlternativeName(type="DNS", value="www.example.com"),
                               SubjectAlternativeName(type="IP", value="192.0.2.10")],
    extended_key_usage=ExtendedKeyUsage(server_auth=True, client_auth=False),
    customized_extension=CustomizedExtension(object_identifier="1.3.6.1.4.1.2011.4.99", value="sdk"),
    enterprise_project_id="0"))).certificate_id
cert = pca.show_certificate(ShowCertificateRequest(certificate_id=issued))
check(cert.certificate_id == issued and cert.status == "ISSUED" and cert.gen_mode == "GENERATE", f"show {cert}")
check(cert.issuer_id == sub and cert.issuer_name == "SDK Sub", "issuer")
check(cert.key_algorithm == "RSA2048" and cert.signature_algorithm == "SHA256", "algorithms")
check(cert.freeze_flag == 0 and cert.delete_time is None and cert.enc_cert_info is None, "seed fields")
check(isinstance(cert.create_time, int) and cert.not_after > cert.not_before, "times")
check(cert.distinguished_name.common_name == "www.example.com", "subject")

openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "csr.key",
        "-out", "csr.pem", "-subj", "/CN=csr.example.com")
csr_text = open(os.path.join(work, "csr.pem")).read()
parsed = pca.parse_certificate_signing_request(ParseCertificateSigningRequestRequest(
    body=ParseCertificateSigningRequestRequestBody(csr=csr_text)))
check(parsed.key_algorithm == "EC" and parsed.key_algorithm_length == 256, f"parse {parsed}")
from_csr = pca.create_certificate_by_csr(CreateCertificateByCsrRequest(body=CreateCertificateByCsrRequestBody(
    issuer_id=sub, csr=csr_text, validity=Validity(type="MONTH", value=3), type="ENTITY_CERT"))).certificate_id
check(pca.show_certificate(ShowCertificateRequest(certificate_id=from_csr)).gen_mode == "CSR", "csr gen_mode")
intermediate = pca.create_certificate_by_csr(CreateCertificateByCsrRequest(body=CreateCertificateByCsrRequestBody(
    issuer_id=root, csr=csr_text, validity=Validity(type="YEAR", value=1), type="INTERMEDIATE_CA",
    path_length=0))).certificate_id
check(pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=intermediate)).gen_mode == "CSR", "ICA")

page = pca.list_certificate(ListCertificateRequest(limit=1, offset=0, sort_key="common_name", sort_dir="ASC"))
check(page.total == 2 and len(page.certificates) == 1, f"list {page.total}")
check(page.certificates[0].distinguished_name.common_name == "csr.example.com", "sorted")
check(pca.list_certificate(ListCertificateRequest(name="www")).total == 1, "name filter")

for kind in ["APACHE", "NGINX", "OTHER"]:
    out = pca.export_certificate(ExportCertificateRequest(certificate_id=issued, body=ExportCertificateRequestBody(
        is_compressed="false", type=kind)))
    check(out.private_key.startswith("-----BEGIN PRIVATE KEY-----"), f"{kind} key")
    check(out.certificate.startswith("-----BEGIN CERTIFICATE-----"), f"{kind} certificate")
    check(out.certificate_chain.count("BEGIN CERTIFICATE") == 2, f"{kind} chain (sub, root)")
out = pca.export_certificate(ExportCertificateRequest(certificate_id=issued, body=ExportCertificateRequestBody(
    is_compressed="false", type="OTHER", password="Sdk-Pass.1")))
check(out.private_key.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "password")
write("leaf.pem", out.certificate)
write("chain.pem", out.certificate_chain)
openssl("verify", "-x509_strict", "-CAfile", "chain.pem", "leaf.pem")
expect_error(lambda: pca.export_certificate(ExportCertificateRequest(certificate_id=issued,
             body=ExportCertificateRequestBody(is_compressed="false", type="IIS"))), 400, "PCA.00020001")
for kind in ["APACHE", "NGINX", "IIS", "TOMCAT", "OTHER"]:
    # The SDK's response model has no binary type: a zip arrives as text; the
    # call must succeed (the zip contents are checked over raw HTTP).
    pca.export_certificate(ExportCertificateRequest(certificate_id=issued, body=ExportCertificateRequestBody(
        is_compressed="true", type=kind)))
csr_out = pca.export_certificate(ExportCertificateRequest(certificate_id=from_csr, body=ExportCertificateRequestBody(
    is_compressed="false", type="TOMCAT")))
check(csr_out.private_key is None and csr_out.certificate, "CSR exports carry no key")

quota = pca.show_certificate_quota(ShowCertificateQuotaRequest())
check(quota.quotas.resources[0].used == 2, f"certificate quota {quota}")

# --- tags and resource instances ---------------------------------------------------
pca.create_ca_tag(CreateCaTagRequest(ca_id=sub, body=ResourceTagRequestBody(tag=ResourceTag(key="env", value="prod"))))
pca.batch_create_ca_tags(BatchCreateCaTagsRequest(ca_id=sub, body=BatchOperateTagRequestBody(
    tags=[ResourceTag(key="team", value="pki"), ResourceTag(key="环境", value="生产")])))
tags = pca.list_ca_tags(ListCaTagsRequest(ca_id=sub)).tags
check(sorted((t.key, t.value) for t in tags) == [("env", "prod"), ("team", "pki"), ("环境", "生产")], f"CA tags {tags}")
check([t.key for t in pca.list_domain_ca_tags(ListDomainCaTagsRequest()).tags] == ["env", "team", "环境"], "CA tag keys")
found = pca.list_ca_resource_instances(ListCaResourceInstancesRequest(body=ListResourceInstancesRequestBody(
    tags=[DomainTags(key="env", values=["prod"])], limit=10, offset=0)))
check(found.total_count == 1 and found.resources[0].resource_id == sub and found.resources[0].resource_name == "SDK Sub",
      f"CAs by tag {found}")
check(found.resources[0].resource_detail["ca_id"] == sub, "resource detail")
count = pca.count_ca_resource_instances(CountCaResourceInstancesRequest(body=ListResourceInstancesRequestBody(
    tags=[DomainTags(key="team", values=[])])))
check(count.total_count == 1, f"CA count {count}")
pca.batch_delete_ca_tags(BatchDeleteCaTagsRequest(ca_id=sub, body=BatchOperateTagRequestBody(
    tags=[ResourceTag(key="team", value="pki")])))
check(len(pca.list_ca_tags(ListCaTagsRequest(ca_id=sub)).tags) == 2, "CA tag removed")

pca.create_cert_tag(CreateCertTagRequest(certificate_id=issued, body=ResourceTagRequestBody(
    tag=ResourceTag(key="env", value="prod"))))
pca.batch_create_cert_tags(BatchCreateCertTagsRequest(certificate_id=from_csr, body=BatchOperateTagRequestBody(
    tags=[ResourceTag(key="env", value="dev")])))
check([(t.key, t.value) for t in pca.list_cert_tags(ListCertTagsRequest(certificate_id=issued)).tags]
      == [("env", "prod")], "certificate tags")
keys = pca.list_domain_cert_tags(ListDomainCertTagsRequest()).tags
check([(k.key, sorted(k.values)) for k in keys] == [("env", ["dev", "prod"])], f"certificate tag keys {keys}")
found = pca.list_cert_resource_instances(ListCertResourceInstancesRequest(body=ListResourceInstancesRequestBody(
    tags=[DomainTags(key="env", values=["dev", "prod"])], limit=10)))
check(sorted(r.resource_id for r in found.resources) == sorted([issued, from_csr]), f"certificates by tag {found}")
count = pca.count_cert_resource_instances(CountCertResourceInstancesRequest(body=ListResourceInstancesRequestBody(
    tags=[DomainTags(key="env", values=["prod"])])))
check(count.total_count == 1, f"certificate count {count}")
pca.batch_delete_cert_tags(BatchDeleteCertTagsRequest(certificate_id=issued, body=BatchOperateTagRequestBody(
    tags=[ResourceTag(key="env")])))
check(pca.list_cert_tags(ListCertTagsRequest(certificate_id=issued)).tags == [], "certificate tag removed")
expect_error(lambda: pca.create_cert_tag(CreateCertTagRequest(certificate_id=issued, body=ResourceTagRequestBody(
    tag=ResourceTag(key="bad/key", value="v")))), 400, "PCA.90020006")

# --- revoke, delete ------------------------------------------------------------
pca.revoke_certificate(RevokeCertificateRequest(certificate_id=from_csr, body=RevokeCertificateRequestBody(
    reason="KEY_COMPROMISE")))
check(pca.show_certificate(ShowCertificateRequest(certificate_id=from_csr)).status == "REVOKED", "revoked")
expect_error(lambda: pca.revoke_certificate(RevokeCertificateRequest(certificate_id=from_csr,
             body=RevokeCertificateRequestBody())), 400, "PCA.90030001")
pca.delete_certificate(DeleteCertificateRequest(certificate_id=from_csr))
expect_error(lambda: pca.show_certificate(ShowCertificateRequest(certificate_id=from_csr)), 404, "PCA.10010002")
expect_error(lambda: pca.show_certificate(ShowCertificateRequest(certificate_id=str(uuid.uuid4()))), 404, "PCA.10010002")

# --- CA states -------------------------------------------------------------------
pca.disable_certificate_authority(DisableCertificateAuthorityRequest(ca_id=pending))
pca.enable_certificate_authority(EnableCertificateAuthorityRequest(ca_id=pending))
pca.disable_certificate_authority(DisableCertificateAuthorityRequest(ca_id=pending))
pca.delete_certificate_authority(DeleteCertificateAuthorityRequest(ca_id=pending, pending_days="7"))
shown = pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=pending))
check(shown.status == "DELETED" and shown.delete_time, "scheduled deletion")
pca.restore_certificate_authority(RestoreCertificateAuthorityRequest(ca_id=pending))
check(pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=pending)).status == "DISABLED", "restored")
pca.enable_certificate_authority_crl(EnableCertificateAuthorityCrlRequest(ca_id=sub, body=EnableCertificateAuthorityCrlRequestBody(
    obs_bucket_name="crl-bucket", valid_days=7)))
check(pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=sub)).crl_configuration.enabled, "crl on")
pca.disable_certificate_authority_crl(DisableCertificateAuthorityCrlRequest(ca_id=sub))
pca.update_ocsp_switch(UpdateOcspSwitchRequest(ca_id=sub, body=UpdateOcspSwitchRequestBody(ocsp_switch=True)))
pca.revoke_certificate_authority(RevokeCertificateAuthorityRequest(ca_id=external, body=RevokeCertificateRequestBody(
    reason="SUPERSEDED")))
expect_error(lambda: pca.enable_certificate_authority(EnableCertificateAuthorityRequest(ca_id=external)), 400, "PCA.90030001")
expect_error(lambda: pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id="bad-id")), 400, "PCA.00020201")
print("pca lifecycle: ok")
