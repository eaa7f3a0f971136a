//! Calls of Huawei Cloud's billing, OBS and dedicated-HSM integration:
//! served, so that a client learns why they cannot work here, and refused.

use axum::http::StatusCode;

use super::{codes, PcaError};
use crate::error::ApiError;

fn refused() -> PcaError {
    PcaError(ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::CLOUD_ONLY,
        "This operation belongs to Huawei Cloud's billing, OBS or dedicated-HSM integration and is not available in a self-hosted deployment.",
    ))
}

cloud_only! {
    "PCA", PcaError, refused;
    /// Buying a CA: cloud billing, refused here (400, `PCA.90020005`).
    order: post "/v1/private-certificate-authorities/order";
    /// Creating the OBS agency: cloud only, refused here.
    create_agency: post "/v1/private-certificate-authorities/agencies";
    /// Showing the OBS agency: cloud only, refused here.
    show_agency: get "/v1/private-certificate-authorities/agency";
    /// Showing the OBS agency: cloud only, refused here.
    show_obs_agency: get "/v1/private-certificate-authorities/obs/agencies";
    /// Creating the OBS agency: cloud only, refused here.
    create_obs_agency: post "/v1/private-certificate-authorities/obs/agencies";
    /// Listing OBS buckets: cloud only, refused here.
    list_obs_buckets: get "/v1/private-certificate-authorities/obs/buckets";
}
