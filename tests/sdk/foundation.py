"""The official SDK authenticates with AK/SK and an endpoint override alone,
discovers its account, and gets Huawei-format answers; a wrong SK is 401."""

import uuid

from huaweicloudsdkccm.v1 import CcmClient, ShowCertificateRequest, ShowCertificateAuthorityQuotaRequest

from common import DOMAIN_ID, check, client, expect_error

# Domain discovery: no domain id given, the SDK calls GET /v3/auth/domains.
discovering = client(CcmClient.new_builder(), discover=True)
quota = discovering.show_certificate_authority_quota(ShowCertificateAuthorityQuotaRequest())
check(quota.quotas.resources[0].type == "CERTIFICATE_AUTHORITY", f"quota {quota}")
check(discovering._credentials.domain_id == DOMAIN_ID, "discovered the bootstrap account")

# With the domain id and the endpoint only.
pca = client(CcmClient.new_builder())
quota = pca.show_certificate_authority_quota(ShowCertificateAuthorityQuotaRequest())
check(quota.quotas.resources[0].quota == 100, f"quota {quota}")

# A Huawei-format error from an authenticated route.
e = expect_error(lambda: pca.show_certificate(ShowCertificateRequest(certificate_id=str(uuid.uuid4()))), 404, "PCA.10010002")

# A wrong secret key: 401 with the gateway's code.
wrong = client(CcmClient.new_builder(), sk="not-the-secret-key")
expect_error(lambda: wrong.show_certificate_authority_quota(ShowCertificateAuthorityQuotaRequest()), 401, "APIGW.0301")
print("foundation: ok")
