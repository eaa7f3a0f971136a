"""Shared setup for the SDK interop scripts: reads the server endpoint and
the bootstrap credentials from the environment the Rust harness sets."""

import os
import sys

from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.region.region import Region

ENDPOINT = os.environ["OPENCCM_ENDPOINT"]
AK = os.environ["OPENCCM_AK"]
SK = os.environ["OPENCCM_SK"]
DOMAIN_ID = os.environ["OPENCCM_DOMAIN_ID"]


def config():
    cfg = HttpConfig.get_default_config()
    cfg.timeout = (10, 60)
    return cfg


def client(builder, sk=None, discover=False):
    """A client built the documented way. With `discover`, no domain id is
    given and the SDK finds it through GET /v3/auth/domains."""
    if discover:
        creds = GlobalCredentials(AK, sk or SK).with_iam_endpoint(ENDPOINT)
        return (builder.with_credentials(creds).with_http_config(config())
                .with_region(Region("local-1", ENDPOINT)).build())
    creds = GlobalCredentials(AK, sk or SK, DOMAIN_ID)
    return builder.with_credentials(creds).with_http_config(config()).with_endpoints([ENDPOINT]).build()


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


def expect_error(call, status, code=None):
    from huaweicloudsdkcore.exceptions import exceptions
    try:
        call()
    except exceptions.ClientRequestException as e:
        check(e.status_code == status, f"expected {status}, got {e.status_code} {e.error_code} {e.error_msg}")
        if code is not None:
            check(e.error_code == code, f"expected {code}, got {e.error_code}: {e.error_msg}")
        check(e.request_id and len(e.request_id) == 32, f"request id {e.request_id!r}")
        return e
    check(False, f"expected an error {status} {code}, the call succeeded")
