"""Temporary credentials through the official SDK: the IAM client mints them
(CreateTemporaryAccessKeyByToken); BasicCredentials(...).with_security_token
signs IAM calls with them and GlobalCredentials(...).with_security_token CCM
calls; without the security token, or with one altered, the same calls fail."""

from huaweicloudsdkccm.v1 import CcmClient, ListCertificateAuthorityRequest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkiam.v3 import (
    CreateTemporaryAccessKeyByTokenRequest,
    CreateTemporaryAccessKeyByTokenRequestBody,
    IamClient,
    IdentityToken,
    KeystoneListAuthDomainsRequest,
    KeystoneListProjectsRequest,
    TokenAuth,
    TokenAuthIdentity,
)

from common import AK, DOMAIN_ID, ENDPOINT, SK, check, config, expect_error


def iam(credentials):
    return (IamClient.new_builder().with_credentials(credentials).with_http_config(config())
            .with_endpoints([ENDPOINT]).build())


def ccm(credentials):
    return (CcmClient.new_builder().with_credentials(credentials).with_http_config(config())
            .with_endpoints([ENDPOINT]).build())


admin_iam = iam(GlobalCredentials(AK, SK, DOMAIN_ID))
body = CreateTemporaryAccessKeyByTokenRequestBody(auth=TokenAuth(identity=TokenAuthIdentity(
    methods=["token"], token=IdentityToken(duration_seconds=900))))
temporary = admin_iam.create_temporary_access_key_by_token(
    CreateTemporaryAccessKeyByTokenRequest(body=body)).credential
check(len(temporary.access) == 20 and len(temporary.secret) == 40, f"shapes: {temporary.access}")
check(temporary.securitytoken and temporary.expires_at.endswith("Z"), "token and expiry")

projects = admin_iam.keystone_list_projects(KeystoneListProjectsRequest(name="local-1")).projects
project_id = projects[0].id

# BasicCredentials with the security token: IAM calls work.
basic = BasicCredentials(temporary.access, temporary.secret, project_id).with_security_token(
    temporary.securitytoken)
domains = iam(basic).keystone_list_auth_domains(KeystoneListAuthDomainsRequest()).domains
check(domains[0].id == DOMAIN_ID, f"domains {domains}")

# GlobalCredentials with the security token: CCM calls work.
global_creds = GlobalCredentials(temporary.access, temporary.secret, DOMAIN_ID).with_security_token(
    temporary.securitytoken)
listed = ccm(global_creds).list_certificate_authority(ListCertificateAuthorityRequest())
check(listed.total is not None, "CA list with temporary credentials")

# Without the security token, or with it altered: 401.
expect_error(lambda: ccm(GlobalCredentials(temporary.access, temporary.secret, DOMAIN_ID))
             .list_certificate_authority(ListCertificateAuthorityRequest()), 401, "APIGW.0301")
token = temporary.securitytoken
altered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
expect_error(lambda: ccm(GlobalCredentials(temporary.access, temporary.secret, DOMAIN_ID)
                         .with_security_token(altered))
             .list_certificate_authority(ListCertificateAuthorityRequest()), 401, "APIGW.0301")

# A duration out of Huawei IAM's range is refused.
try:
    admin_iam.create_temporary_access_key_by_token(CreateTemporaryAccessKeyByTokenRequest(
        body=CreateTemporaryAccessKeyByTokenRequestBody(auth=TokenAuth(identity=TokenAuthIdentity(
            methods=["token"], token=IdentityToken(duration_seconds=60))))))
    check(False, "a 60-second duration was accepted")
except exceptions.ClientRequestException as e:
    check(e.status_code == 400, f"duration: {e.status_code} {e.error_msg}")

print("sts: ok")
