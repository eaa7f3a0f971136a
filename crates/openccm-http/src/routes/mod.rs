//! Handlers, one module per API family.

/// Defines the error type of one service's routes (`$name`, and `$result`
/// for its results): application errors and body rejections become that
/// service's API errors.
macro_rules! route_error {
    ($(#[$doc:meta])* $name:ident, $result:ident, $service:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(crate::error::ApiError);

        impl From<openccm_app::Error> for $name {
            fn from(err: openccm_app::Error) -> Self {
                Self(crate::error::ApiError::from_app($service, &err))
            }
        }

        impl From<crate::extract::BodyRejection> for $name {
            fn from(rejection: crate::extract::BodyRejection) -> Self {
                Self(crate::error::ApiError::from_body($service, rejection))
            }
        }

        impl axum::response::IntoResponse for $name {
            fn into_response(self) -> axum::response::Response {
                self.0.into_response()
            }
        }

        type $result<T> = Result<T, $name>;
    };
}

/// Declares, in a route module, handlers of Huawei Cloud-only calls that
/// answer after authentication with `$refused()` (an error of type
/// `$error`), each at its method and path (the `utoipa::path` of each names
/// them), with an optional path parameter and its description.
macro_rules! cloud_only {
    ($tag:tt, $error:ty, $refused:path;
     $($(#[$doc:meta])* $name:ident: $method:tt $path:tt $(, $param:tt = $param_doc:tt)?;)*) => {$(
        $(#[$doc])*
        #[utoipa::path(
            $method,
            path = $path,
            tag = $tag,
            $(params(($param = String, Path, description = $param_doc)),)?
            responses($crate::openapi::Errors)
        )]
        pub(super) async fn $name(
            $crate::extract::CallerOf(_caller): $crate::extract::CallerOf,
        ) -> $error {
            $refused()
        }
    )*};
}

pub mod acme;
pub mod admin;
pub mod health;
pub mod iam;
pub mod pca;
pub mod revocation;
pub mod scm;
mod tags;
