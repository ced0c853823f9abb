//! The listen address: free for `marcus serve`, already served by a Marcus (found through
//! its `/healthz`), or taken by another program.

use super::check::Check;
use crate::server_client::ServerClient;
use std::net::SocketAddr;
use std::time::Duration;

const NAME: &str = "listen port";
/// How long whatever holds the port gets to answer `/healthz`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What is at `addr`.
pub async fn check(addr: SocketAddr) -> Check {
    let bound = std::net::TcpListener::bind(addr);
    let error = match bound {
        Ok(listener) => {
            drop(listener);
            return Check::ok(NAME, format!("{addr} is free"));
        }
        Err(e) => e,
    };
    if error.kind() != std::io::ErrorKind::AddrInUse {
        return Check::fail(
            NAME,
            format!("cannot listen on {addr}: {error}"),
            "choose an address this machine has and a port it may open (above 1023 unless privileged) with --listen (MARCUS_LISTEN)",
        );
    }
    let taken = |what: String| {
        Check::fail(
            NAME,
            format!("{addr} is taken by another program ({what})"),
            format!(
                "stop that program, or give `marcus serve` another address with --listen (MARCUS_LISTEN); `ss -ltnp 'sport = :{}'` shows who holds it",
                addr.port()
            ),
        )
    };
    let client = match ServerClient::new(&format!("http://{addr}"), None) {
        Ok(c) => c.with_timeout(PROBE_TIMEOUT),
        Err(e) => return taken(e.to_string()),
    };
    let reply = match client.get("/healthz").await {
        Ok(reply) => reply,
        Err(e) => return taken(format!("no HTTP answer to /healthz: {e}")),
    };
    let healthy = serde_json::from_slice::<serde_json::Value>(&reply.body)
        .is_ok_and(|v| v == serde_json::json!({"status": "ok"}));
    if reply.status != 200 || !healthy {
        return taken(format!("/healthz answered {}", reply.refusal()));
    }
    let version = match client.get("/api/features").await {
        Ok(features) if features.status == 200 => {
            serde_json::from_slice::<serde_json::Value>(&features.body)
                .ok()
                .and_then(|v| {
                    v["environment"]["facts"]["version"]
                        .as_str()
                        .map(|s| format!("version {s}"))
                })
        }
        Ok(features) if features.status == 401 => Some("credentials required".to_string()),
        _ => None,
    };
    Check::ok(
        NAME,
        format!(
            "a Marcus server already serves {addr}{}; a second `marcus serve` needs another --listen",
            version.map_or(String::new(), |v| format!(" ({v})"))
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::check::Status;

    #[tokio::test]
    async fn a_free_port_and_a_silent_listener_are_told_apart() {
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = silent.local_addr().unwrap();
        let taken = super::check(addr).await;
        assert_eq!(taken.status, Status::Fail, "{taken:?}");
        assert!(
            taken.detail.contains("taken by another program"),
            "{taken:?}"
        );
        drop(silent);
        assert_eq!(super::check(addr).await.status, Status::Ok);
    }
}
