//! The Huawei error body and the catalogue of codes OpenCCM answers with.
//!
//! Codes and messages come from ../shared/api/errors.md. Codes that OpenCCM
//! invented are in the `PCA.9xxxxxxx` / `SCM.9xxx` blocks so that a later import
//! of Huawei's full table cannot collide with them.

use serde::{Deserialize, Serialize};

/// `{"error_code": ..., "error_msg": ...}`, plus `request_id` on gateway errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// 3–36 chars: `PCA.` + 8 digits, `SCM.` + 4 digits or `APIGW.` + 4 digits.
    pub error_code: String,
    /// 0–1024 chars.
    pub error_msg: String,
    /// Present on errors the gateway itself produces (authentication, routing).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
}

/// The maximum length of `error_msg` (seed 003, seed 000).
pub const ERROR_MSG_MAX: usize = 1024;

impl ErrorBody {
    /// Builds a body, truncating the message to the documented 1024 characters.
    pub fn new(code: ErrorCode, msg: impl Into<String>) -> Self {
        let mut error_msg: String = msg.into();
        if error_msg.chars().count() > ERROR_MSG_MAX {
            error_msg = error_msg.chars().take(ERROR_MSG_MAX).collect();
        }
        Self {
            error_code: code.as_str().to_owned(),
            error_msg,
            request_id: None,
        }
    }
}

/// An error code of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(&'static str);

impl ErrorCode {
    /// The code as it appears in `error_code`.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The service prefix (`PCA`, `SCM`, `APIGW`).
    pub fn service(self) -> &'static str {
        self.0.split('.').next().unwrap_or(self.0)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Gateway and authentication codes (errors.md § Authentication, authorisation and gateway).
pub mod gateway {
    use super::ErrorCode;

    /// 401: bad or missing AK/SK signature or token.
    pub const AUTH_FAILED: ErrorCode = ErrorCode("APIGW.0301");
    /// 403: the credentials are valid but the caller may not do this.
    pub const FORBIDDEN: ErrorCode = ErrorCode("APIGW.0302");
    /// 404: unknown path or method.
    pub const API_NOT_FOUND: ErrorCode = ErrorCode("APIGW.0101");
    /// 405: known path, wrong method. OpenCCM's own code.
    pub const METHOD_NOT_ALLOWED: ErrorCode = ErrorCode("APIGW.9405");
    /// 413: body over the limit.
    pub const ENTITY_TOO_LARGE: ErrorCode = ErrorCode("APIGW.0201");
    /// 415: a body that is not JSON. OpenCCM's own code.
    pub const UNSUPPORTED_MEDIA_TYPE: ErrorCode = ErrorCode("APIGW.9415");
    /// 400: a malformed request outside any service (e.g. IAM bodies). OpenCCM's own code.
    pub const BAD_REQUEST: ErrorCode = ErrorCode("APIGW.9400");
    /// 408: the request body did not arrive within the time limit. OpenCCM's own code.
    pub const BODY_TIMEOUT: ErrorCode = ErrorCode("APIGW.9408");
    /// 503: too many request bodies being received at once. OpenCCM's own code.
    pub const BUSY: ErrorCode = ErrorCode("APIGW.9503");
    /// 500: internal fault outside any service. OpenCCM's own code.
    pub const INTERNAL: ErrorCode = ErrorCode("APIGW.9500");
}

/// PCA codes (errors.md § PCA error codes).
pub mod pca {
    use super::ErrorCode;

    /// 400 `Incorrect parameter.`
    pub const INVALID_PARAMETER: ErrorCode = ErrorCode("PCA.00020001");
    /// 400 `Incorrect certificate distinguished name.`
    pub const INVALID_DISTINGUISHED_NAME: ErrorCode = ErrorCode("PCA.00020101");
    /// 400 invalid key algorithm.
    pub const INVALID_KEY_ALGORITHM: ErrorCode = ErrorCode("PCA.00020102");
    /// 400 invalid signature hash algorithm.
    pub const INVALID_SIGNATURE_ALGORITHM: ErrorCode = ErrorCode("PCA.00020103");
    /// 400 invalid validity.
    pub const INVALID_VALIDITY: ErrorCode = ErrorCode("PCA.00020109");
    /// 400 invalid SAN DNS name.
    pub const INVALID_DOMAIN_NAME: ErrorCode = ErrorCode("PCA.00020110");
    /// 400 invalid SAN IP.
    pub const INVALID_IP: ErrorCode = ErrorCode("PCA.00020111");
    /// 400 invalid SAN type.
    pub const INVALID_SAN_TYPE: ErrorCode = ErrorCode("PCA.00020112");
    /// 400 malformed CA id.
    pub const INVALID_CA_ID: ErrorCode = ErrorCode("PCA.00020201");
    /// 400 invalid CA type.
    pub const INVALID_CA_TYPE: ErrorCode = ErrorCode("PCA.00020202");
    /// 404 (seed 003) the CA or certificate does not exist.
    pub const NOT_FOUND: ErrorCode = ErrorCode("PCA.10010002");
    /// 400 malformed certificate id. OpenCCM's own code.
    pub const INVALID_CERTIFICATE_ID: ErrorCode = ErrorCode("PCA.90020001");
    /// 400 the resource is not in a state that allows the operation. OpenCCM's own code.
    pub const INVALID_STATE: ErrorCode = ErrorCode("PCA.90030001");
    /// 400 the resource already exists. OpenCCM's own code.
    pub const CONFLICT: ErrorCode = ErrorCode("PCA.90030002");
    /// 400 a quota is exhausted. OpenCCM's own code.
    pub const QUOTA_EXCEEDED: ErrorCode = ErrorCode("PCA.90040001");
    /// 400 the CSR cannot be parsed or its signature does not verify. OpenCCM's own code.
    pub const INVALID_CSR: ErrorCode = ErrorCode("PCA.90020002");
    /// 400 an imported certificate is malformed or does not fit. OpenCCM's own code.
    pub const INVALID_CERTIFICATE: ErrorCode = ErrorCode("PCA.90020003");
    /// 400 a private key is malformed or does not match. OpenCCM's own code.
    pub const INVALID_PRIVATE_KEY: ErrorCode = ErrorCode("PCA.90020004");
    /// 400 a cloud-only operation (billing, OBS, dedicated HSM). OpenCCM's own code.
    pub const CLOUD_ONLY: ErrorCode = ErrorCode("PCA.90020005");
    /// 400 a tag key or value breaks the tag rules, or too many tags. OpenCCM's own code.
    pub const INVALID_TAG: ErrorCode = ErrorCode("PCA.90020006");
    /// 403 the identity policy does not allow the action. OpenCCM's own code.
    pub const FORBIDDEN: ErrorCode = ErrorCode("PCA.90010003");
    /// 500 internal error. OpenCCM's own code.
    pub const INTERNAL: ErrorCode = ErrorCode("PCA.90050001");
}

/// SCM codes (errors.md § SCM error codes).
pub mod scm {
    use super::ErrorCode;

    /// 400 the private key could not be parsed or does not belong to the certificate.
    pub const INVALID_PRIVATE_KEY: ErrorCode = ErrorCode("SCM.0012");
    /// 400 certificate not framed by the PEM markers.
    pub const CERTIFICATE_FORMAT: ErrorCode = ErrorCode("SCM.0053");
    /// 400 empty certificate content.
    pub const CERTIFICATE_EMPTY: ErrorCode = ErrorCode("SCM.0054");
    /// 400 the chain does not link up to the certificate.
    pub const CHAIN_MISMATCH: ErrorCode = ErrorCode("SCM.0079");
    /// 400 private key not framed by the PEM markers.
    pub const PRIVATE_KEY_FORMAT: ErrorCode = ErrorCode("SCM.0114");
    /// 404 certificate does not exist.
    pub const NOT_FOUND: ErrorCode = ErrorCode("SCM.0021");
    /// 400 invalid parameter. OpenCCM's own code.
    pub const INVALID_PARAMETER: ErrorCode = ErrorCode("SCM.9001");
    /// 400 state conflict or duplicate. OpenCCM's own code.
    pub const CONFLICT: ErrorCode = ErrorCode("SCM.9002");
    /// 400 a quota is exhausted. OpenCCM's own code.
    pub const QUOTA_EXCEEDED: ErrorCode = ErrorCode("SCM.9003");
    /// 403 the identity policy does not allow the action. OpenCCM's own code.
    pub const FORBIDDEN: ErrorCode = ErrorCode("SCM.9004");
    /// 500 internal error. OpenCCM's own code.
    pub const INTERNAL: ErrorCode = ErrorCode("SCM.9005");
    /// 400 the CSR cannot be parsed or its signature does not verify. OpenCCM's own code.
    pub const INVALID_CSR: ErrorCode = ErrorCode("SCM.9006");
    /// 400 a tag key or value breaks the tag rules. OpenCCM's own code.
    pub const INVALID_TAG: ErrorCode = ErrorCode("SCM.9007");
    /// 400 the key or signature algorithm is not supported. OpenCCM's own code.
    pub const UNSUPPORTED_ALGORITHM: ErrorCode = ErrorCode("SCM.9008");
    /// 400 a cloud-only operation (deployment to cloud services, commercial
    /// certificate purchase). OpenCCM's own code.
    pub const CLOUD_ONLY: ErrorCode = ErrorCode("SCM.9009");
}

/// IAM administration codes (OpenCCM's own: the administration API is not
/// part of the seeds).
pub mod iam {
    use super::ErrorCode;

    /// 400 invalid parameter.
    pub const INVALID_PARAMETER: ErrorCode = ErrorCode("IAM.9001");
    /// 409 the name is taken.
    pub const CONFLICT: ErrorCode = ErrorCode("IAM.9002");
    /// 404 the user, key, group or policy does not exist.
    pub const NOT_FOUND: ErrorCode = ErrorCode("IAM.9003");
    /// 403 only the account administrator may do this.
    pub const FORBIDDEN: ErrorCode = ErrorCode("IAM.9004");
    /// 400 a limit is reached (two access keys per user).
    pub const QUOTA_EXCEEDED: ErrorCode = ErrorCode("IAM.9005");
    /// 500 internal error.
    pub const INTERNAL: ErrorCode = ErrorCode("IAM.9006");
    /// 400 the state does not allow it.
    pub const INVALID_STATE: ErrorCode = ErrorCode("IAM.9007");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_truncated_to_the_documented_bound() {
        let body = ErrorBody::new(pca::INVALID_PARAMETER, "x".repeat(5000));
        assert_eq!(body.error_msg.chars().count(), ERROR_MSG_MAX);
    }

    #[test]
    fn codes_have_the_documented_shapes() {
        let all = [
            gateway::AUTH_FAILED,
            gateway::FORBIDDEN,
            gateway::API_NOT_FOUND,
            gateway::METHOD_NOT_ALLOWED,
            gateway::ENTITY_TOO_LARGE,
            gateway::UNSUPPORTED_MEDIA_TYPE,
            gateway::BAD_REQUEST,
            gateway::INTERNAL,
            pca::INVALID_PARAMETER,
            pca::NOT_FOUND,
            pca::INVALID_STATE,
            pca::INTERNAL,
            scm::NOT_FOUND,
            scm::INVALID_PARAMETER,
            scm::INTERNAL,
            scm::INVALID_CSR,
            scm::INVALID_TAG,
            scm::UNSUPPORTED_ALGORITHM,
            scm::CLOUD_ONLY,
            scm::CERTIFICATE_FORMAT,
            scm::PRIVATE_KEY_FORMAT,
            iam::INVALID_PARAMETER,
            iam::CONFLICT,
            iam::NOT_FOUND,
            iam::FORBIDDEN,
            iam::QUOTA_EXCEEDED,
            iam::INTERNAL,
            iam::INVALID_STATE,
        ];
        for code in all {
            let s = code.as_str();
            assert!((3..=36).contains(&s.len()), "{s}");
            let (prefix, digits) = s.split_once('.').unwrap();
            let expected_len = match prefix {
                "PCA" => 8,
                "SCM" | "APIGW" | "IAM" => 4,
                other => panic!("unknown prefix {other}"),
            };
            assert_eq!(digits.len(), expected_len, "{s}");
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{s}");
        }
    }

    #[test]
    fn request_id_is_omitted_when_absent() {
        let body = ErrorBody::new(pca::NOT_FOUND, "gone");
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(json, r#"{"error_code":"PCA.10010002","error_msg":"gone"}"#);
    }
}
