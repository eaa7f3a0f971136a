//! Calls of Huawei Cloud's deployment to cloud services and commercial
//! certificate purchase: served, so that a client learns why they cannot
//! work here, and refused (400, `SCM.9009`).

use axum::http::StatusCode;

use super::{codes, ScmError};
use crate::error::ApiError;
use crate::extract::CallerOf;
use crate::openapi::Errors;

fn refused() -> ScmError {
    ScmError(ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::CLOUD_ONLY,
        "This operation belongs to Huawei Cloud (deployment to cloud services, commercial certificate purchase) and is not available in a self-hosted deployment.",
    ))
}

/// Declares handlers that refuse after authentication, each at its
/// method and path (the `utoipa::path` of each names them).
macro_rules! cloud_only {
    ($($(#[$doc:meta])* $name:ident: $method:tt $path:tt $(, $param:tt)?;)*) => {$(
        $(#[$doc])*
        #[utoipa::path(
            $method,
            path = $path,
            tag = "SCM",
            $(params(($param = String, Path, description = "The SSL certificate's id.")),)?
            responses(Errors)
        )]
        pub(super) async fn $name(CallerOf(_caller): CallerOf) -> ScmError {
            refused()
        }
    )*};
}

cloud_only! {
    /// Pushing a certificate to another cloud service: refused here.
    push: post "/v3/scm/certificates/{certificate_id}/push", "certificate_id";
    /// Pushing a certificate to several cloud services: refused here.
    batch_push: post "/v3/scm/certificates/{certificate_id}/batch-push", "certificate_id";
    /// Deploying a certificate to a cloud service: refused here.
    deploy: post "/v3/scm/certificates/{certificate_id}/deploy", "certificate_id";
    /// Listing the cloud resources a certificate is deployed on: refused here.
    deployed_resources: post "/v3/scm/deployed-resources";
    /// Buying a commercial certificate: refused here.
    buy: post "/v3/scm/certificates/buy";
    /// Applying for a commercial certificate: refused here.
    apply: post "/v3/scm/certificates/{certificate_id}/apply", "certificate_id";
    /// Cancelling a commercial certificate's application: refused here.
    cancel: post "/v3/scm/certificates/{certificate_id}/cancel-cert", "certificate_id";
    /// Unsubscribing from a commercial certificate: refused here.
    unsubscribe: delete "/v3/scm/certificates/{cert_id}/unsubscribe", "cert_id";
}
