//! The app component served over wasi:http on the stand-in host, one fresh app and adapter
//! instance per request as `spin up` serves it, for the suites that drive the app itself.

use super::test_host::{SpinStores, TestHost};
use std::sync::OnceLock;
use std::time::Duration;

/// The built Spin adapter.
pub const ADAPTER: &str = env!("MARCUS_SPIN_ADAPTER_WASM");
/// The built release app component (the file Spin serves and a release host embeds).
pub const APP: &str = env!("MARCUS_RELEASE_APP_WASM");

/// The stand-in host with the adapter compiled once per test process.
pub fn host() -> &'static TestHost {
    static HOST: OnceLock<TestHost> = OnceLock::new();
    HOST.get_or_init(|| TestHost::new(ADAPTER))
}

/// The app component, compiled once per test process.
pub fn app() -> &'static wasmtime::component::Component {
    static APP_COMPONENT: OnceLock<wasmtime::component::Component> = OnceLock::new();
    APP_COMPONENT.get_or_init(|| host().compile(APP))
}

/// An HTTP request to the app; a body gets a JSON content type unless `headers` name one.
pub fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> hyper::Request<http_body_util::Full<bytes::Bytes>> {
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if !body.is_empty() {
        builder = builder.header("content-length", body.len());
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            builder = builder.header("content-type", "application/json");
        }
    }
    builder
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_string(),
        )))
        .unwrap()
}

/// Reads a response body until `done` holds for what arrived, or the time is up.
pub fn read_until(
    body: &mut wasmtime_wasi_http::p2::body::HyperOutgoingBody,
    within: Duration,
    done: impl Fn(&str) -> bool,
) -> String {
    use http_body_util::BodyExt;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let deadline = std::time::Instant::now() + within;
    let mut text = String::new();
    runtime.block_on(async {
        while !done(&text) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match tokio::time::timeout(left, body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        text.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                Ok(None) | Ok(Some(Err(_))) | Err(_) => break,
            }
        }
    });
    text
}

/// Serves one request and reads the whole answer: (status, body).
pub fn serve(
    stores: &SpinStores,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let (status, _, body) = serve_with_headers(stores, method, path, headers, body);
    (status, body)
}

/// Serves one request and reads the whole answer: (status, headers in lower case, body).
pub fn serve_with_headers(
    stores: &SpinStores,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let response = host().serve_app(app(), stores, request(method, path, headers, body));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = response.into_body();
    let text = read_until(&mut body, Duration::from_secs(10), |_| false);
    (status, headers, text)
}
