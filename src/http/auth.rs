//! Optional bearer-token auth for the `/v1/*` routes (`ROOTLINE_API_KEYS`), as an extractor.
//!
//! An extractor rather than a middleware, so a route is protected exactly when its handler asks for
//! [`Authorized`]: `/health`, `/metrics`, `/docs` and `/openapi.json` stay open for probes and
//! scrapers by construction. Keys are compared in constant time.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};

use super::problem::ApiError;
use super::AppState;
use crate::error::Error;

/// Proof that the request carried an accepted key (or that auth is off).
pub struct Authorized;

/// Equal-length comparison whose time does not depend on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks an `Authorization` header value against the accepted keys.
pub fn check(keys: &[String], authorization: Option<&str>) -> bool {
    if keys.is_empty() {
        return true;
    }
    let Some(value) = authorization else { return false };
    let Some((scheme, token)) = value.trim().split_once(' ') else { return false };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let token = token.trim().as_bytes();
    // Every key is compared, so timing does not reveal which one (if any) matched.
    keys.iter().fold(false, |ok, k| constant_time_eq(k.as_bytes(), token) | ok)
}

impl FromRequest for Authorized {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<Data<AppState>>() else {
            return ready(Err(Error::Internal("app state missing".into()).into()));
        };
        let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        ready(if check(&state.api_keys, header) {
            Ok(Authorized)
        } else {
            let detail = if header.is_some() {
                "the bearer token is not accepted"
            } else {
                "send `Authorization: Bearer <key>`; this service requires an API key on /v1/*"
            };
            Err(ApiError::new(Error::Unauthorized, detail))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let keys = vec!["k1".to_string(), "secret-2".to_string()];
        assert!(check(&[], None));
        assert!(check(&keys, Some("Bearer secret-2")));
        assert!(check(&keys, Some("bearer k1")));
        assert!(!check(&keys, Some("Bearer k2")));
        assert!(!check(&keys, Some("Basic k1")));
        assert!(!check(&keys, Some("Bearer")));
        assert!(!check(&keys, None));
    }
}
