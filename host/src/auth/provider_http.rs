//! HTTP exchanges with an identity provider the operator configured (discovery, key sets,
//! the token endpoint): one way to reach it, with a deadline and a size limit, and without
//! following redirects (a provider that redirects a back-channel request is misconfigured,
//! and following would let it point this server anywhere).

use crate::outbound_http::send_vetted;
use http_body_util::{BodyExt, Full, Limited};
use marcus_core::webhooks::destination::AllowList;
use std::time::Duration;

/// How long one exchange may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer read.
const MAX_BODY_BYTES: usize = 1 << 20;

/// Why a provider could not be asked at all (unreachable, too slow, too large): the request
/// that needed it is answered `503`, never let through.
#[derive(Debug)]
pub struct ProviderUnavailable(pub String);

impl std::fmt::Display for ProviderUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the identity provider cannot be reached: {}", self.0)
    }
}

impl std::error::Error for ProviderUnavailable {}

/// Sends `request` to the provider it names (the operator named that provider, so its
/// address is allowed even on a private network or loopback) and reads the whole answer,
/// whatever its status.
pub async fn exchange(
    request: http::Request<Vec<u8>>,
) -> Result<http::Response<Vec<u8>>, ProviderUnavailable> {
    let url = request.uri().to_string();
    let fail = |why: String| ProviderUnavailable(format!("{url}: {why}"));
    let authority = request
        .uri()
        .authority()
        .ok_or_else(|| fail("no host".into()))?
        .to_string();
    let allow = AllowList::parse(&authority).map_err(fail)?;
    let (mut parts, body) = request.into_parts();
    parts
        .headers
        .entry(http::header::HOST)
        .or_insert(http::HeaderValue::from_str(&authority).map_err(|e| fail(e.to_string()))?);
    let request = http::Request::from_parts(
        parts,
        Full::new(bytes::Bytes::from(body))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    let send = async {
        let (response, io) = send_vetted(request, None, &allow)
            .await
            .map_err(|e| fail(format!("{e:?}")))?;
        tokio::spawn(io);
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_BODY_BYTES)
            .collect()
            .await
            .map_err(|e| fail(e.to_string()))?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body.to_vec()))
    };
    tokio::time::timeout(TIMEOUT, send)
        .await
        .map_err(|_| fail("no answer in time".into()))?
}

/// GETs a JSON document from the provider; a status other than success is an error.
pub async fn get_json(url: &str) -> Result<serde_json::Value, ProviderUnavailable> {
    let fail = |why: String| ProviderUnavailable(format!("{url}: {why}"));
    let request = http::Request::get(url)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| fail(e.to_string()))?;
    let response = exchange(request).await?;
    if !response.status().is_success() {
        return Err(fail(format!("answered {}", response.status())));
    }
    serde_json::from_slice(response.body()).map_err(|e| fail(format!("not JSON: {e}")))
}
