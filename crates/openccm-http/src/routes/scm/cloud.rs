//! Calls of Huawei Cloud's deployment to cloud services and commercial
//! certificate purchase: served, so that a client learns why they cannot
//! work here, and refused (400, `SCM.9009`).

use axum::http::StatusCode;

use super::{codes, ScmError};
use crate::error::ApiError;

fn refused() -> ScmError {
    ScmError(ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::CLOUD_ONLY,
        "This operation belongs to Huawei Cloud (deployment to cloud services, commercial certificate purchase) and is not available in a self-hosted deployment.",
    ))
}

cloud_only! {
    "SCM", ScmError, refused;
    /// Pushing a certificate to another cloud service: refused here.
    push: post "/v3/scm/certificates/{certificate_id}/push", "certificate_id" = "The SSL certificate's id.";
    /// Pushing a certificate to several cloud services: refused here.
    batch_push: post "/v3/scm/certificates/{certificate_id}/batch-push", "certificate_id" = "The SSL certificate's id.";
    /// Deploying a certificate to a cloud service: refused here.
    deploy: post "/v3/scm/certificates/{certificate_id}/deploy", "certificate_id" = "The SSL certificate's id.";
    /// Listing the cloud resources a certificate is deployed on: refused here.
    deployed_resources: post "/v3/scm/deployed-resources";
    /// Buying a commercial certificate: refused here.
    buy: post "/v3/scm/certificates/buy";
    /// Applying for a commercial certificate: refused here.
    apply: post "/v3/scm/certificates/{certificate_id}/apply", "certificate_id" = "The SSL certificate's id.";
    /// Cancelling a commercial certificate's application: refused here.
    cancel: post "/v3/scm/certificates/{certificate_id}/cancel-cert", "certificate_id" = "The SSL certificate's id.";
    /// Unsubscribing from a commercial certificate: refused here.
    unsubscribe: delete "/v3/scm/certificates/{cert_id}/unsubscribe", "cert_id" = "The SSL certificate's id.";
}
