"""Schemathesis hooks for OpenCCM: every request is signed with AK/SK the way
the official SDK signs, by the SDK's own signer (huaweicloudsdkcore), over the
request exactly as it leaves: method, path, query, Host, Content-Type and the
SHA-256 of the final body bytes.

Loaded by crates/openccm-server/tests/it/openapi.rs through
SCHEMATHESIS_HOOKS; the access key comes from OPENCCM_AK / OPENCCM_SK.
"""

import os
import urllib.parse

import requests
import schemathesis
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer


class SdkSignature(requests.auth.AuthBase):
    """Signs a prepared request: requests calls this after the body is final."""

    def __init__(self, ak: str, sk: str):
        self._signer = Signer(BasicCredentials(ak, sk))

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urllib.parse.urlsplit(r.url)
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        signed = {k: v for k, v in r.headers.items() if k.lower() == "content-type"}
        request = SdkRequest(
            method=r.method,
            schema=url.scheme,
            host=url.netloc,
            resource_path=url.path,
            query_params=urllib.parse.parse_qsl(url.query, keep_blank_values=True),
            header_params=signed,
            body=bytes(body),
        )
        self._signer.sign(request)
        for name, value in request.header_params.items():
            r.headers[name] = value
        return r


SIGNATURE = SdkSignature(os.environ["OPENCCM_AK"], os.environ["OPENCCM_SK"])

# The run's authentication: schemathesis leaves it off where it tests that
# a request without a valid credential is refused (the `ignored_auth` check).
schemathesis.auth.set_from_requests(SIGNATURE)


# OCSP requests are DER: sent as the raw bytes generated for `format: binary`.
schemathesis.serializer.alias("application/ocsp-request", "application/octet-stream")
