"""The official SDK as an IAM user whose only policy allows "show
certificates in enterprise project X with tag env=prod" (created with
`openccm admin`): that call passes, every other gets 403 (the user's AK/SK
come in OPENCCM_USER_AK / OPENCCM_USER_SK; the administrator sets up the
certificates first)."""

import os

from huaweicloudsdkccm.v1 import (CcmClient, CreateCertificateAuthorityRequest,
                                  CreateCertificateAuthorityRequestBody, CreateCertificateRequest,
                                  CreateCertificateRequestBody, DistinguishedName, ExportCertificateRequestBody,
                                  ListCertificateRequest, ShowCertificateAuthorityRequest, Validity)
from huaweicloudsdkccm.v1 import ExportCertificateRequest as PcaExportRequest
from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkscm.v3 import *  # noqa: F401,F403 (the SDK's documented import)
from huaweicloudsdkscm.v3 import ExportCertificateRequest as ScmExportRequest

from common import DOMAIN_ID, ENDPOINT, check, client, config, expect_error

PROJECT = os.environ["OPENCCM_PROJECT"]

# --- the administrator: a CA, and three SCM certificates --------------------
admin_pca = client(CcmClient.new_builder())
admin_scm = client(ScmClient.new_builder())
ca = admin_pca.create_certificate_authority(CreateCertificateAuthorityRequest(
    body=CreateCertificateAuthorityRequestBody(
        type="ROOT", key_algorithm="EC256", signature_algorithm="SHA256",
        distinguished_name=DistinguishedName(common_name="Narrow Root", country="CN", state="GD", locality="SZ",
                                             organization="OpenCCM", organizational_unit="PKI"),
        validity=Validity(type="YEAR", value=2)))).ca_id


def scm_certificate(name, project, env):
    cert = admin_pca.create_certificate(CreateCertificateRequest(body=CreateCertificateRequestBody(
        issuer_id=ca, key_algorithm="EC256", signature_algorithm="SHA256",
        distinguished_name=DistinguishedName(common_name=f"{name}.example.com"),
        validity=Validity(type="DAY", value=30)))).certificate_id
    pem = admin_pca.export_certificate(PcaExportRequest(
        certificate_id=cert, body=ExportCertificateRequestBody(is_compressed="false", type="OTHER")))
    cert_id = admin_scm.import_certificate(ImportCertificateRequest(body=ImportCertificateRequestBody(
        name=name, certificate=pem.certificate, certificate_chain=pem.certificate_chain,
        private_key=pem.private_key, enterprise_project_id=project))).certificate_id
    admin_scm.create_certificate_tag(CreateCertificateTagRequest(
        resource_id=cert_id, body=CreateCertificateTagRequestBody(tag=ScsResourceTag(key="env", value=env))))
    return cert_id


allowed = scm_certificate("prod-x", PROJECT, "prod")
wrong_tag = scm_certificate("dev-x", PROJECT, "dev")
wrong_project = scm_certificate("prod-default", "0", "prod")

# --- the IAM user ------------------------------------------------------------
creds = GlobalCredentials(os.environ["OPENCCM_USER_AK"], os.environ["OPENCCM_USER_SK"], DOMAIN_ID)
user_scm = (ScmClient.new_builder().with_credentials(creds).with_http_config(config())
            .with_endpoints([ENDPOINT]).build())
user_pca = (CcmClient.new_builder().with_credentials(creds).with_http_config(config())
            .with_endpoints([ENDPOINT]).build())

shown = user_scm.show_certificate(ShowCertificateRequest(certificate_id=allowed))
check(shown.id == allowed and shown.enterprise_project_id == PROJECT, f"allowed show: {shown}")

expect_error(lambda: user_scm.show_certificate(ShowCertificateRequest(certificate_id=wrong_tag)), 403, "SCM.9004")
expect_error(lambda: user_scm.show_certificate(ShowCertificateRequest(certificate_id=wrong_project)), 403, "SCM.9004")
expect_error(lambda: user_scm.export_certificate(ScmExportRequest(certificate_id=allowed)), 403, "SCM.9004")
expect_error(lambda: user_scm.list_certificates(ListCertificatesRequest()), 403, "SCM.9004")
expect_error(lambda: user_scm.delete_certificate(DeleteCertificateRequest(certificate_id=allowed)), 403, "SCM.9004")
expect_error(lambda: user_scm.list_tags_by_certificate(ListTagsByCertificateRequest(resource_id=allowed)), 403,
             "SCM.9004")
expect_error(lambda: user_scm.create_csr(CreateCsrRequest(body=CreateCsrRequestBody(
    name="x", domain_name="x.example.com", private_key_algo="EC_P256", usage="PERSONAL"))), 403, "SCM.9004")
expect_error(lambda: user_pca.list_certificate(ListCertificateRequest()), 403, "PCA.90010003")
expect_error(lambda: user_pca.show_certificate_authority(ShowCertificateAuthorityRequest(ca_id=ca)), 403,
             "PCA.90010003")
# Unknown ids stay unknown.
expect_error(lambda: user_scm.show_certificate(ShowCertificateRequest(certificate_id="scs0000000000001")), 404,
             "SCM.0021")
# The administrator still sees everything.
check(admin_scm.list_certificates(ListCertificatesRequest(limit=50)).total_count >= 3, "admin list")
print("iam narrow policy: ok")
