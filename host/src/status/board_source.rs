//! Where `marcus status` reads the board: a running server over its JSON API, or the app
//! run in this process on the stored documents. Both answer the same routes with the same
//! code, so the figures do not depend on where they were read.

use crate::in_process_app::InProcessApp;
use crate::server_client::ServerClient;
use serde_json::Value;

/// A board to read.
pub enum BoardSource {
    /// A running server.
    Server(ServerClient),
    /// The app in this process on a store; the text says which store.
    Store(Box<InProcessApp>, String),
}

impl BoardSource {
    /// `server` or `store`, for the JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Server(_) => "server",
            Self::Store(..) => "store",
        }
    }

    /// The server's URL or the store's location (without credentials).
    pub fn location(&self) -> String {
        match self {
            Self::Server(client) => client.url().to_string(),
            Self::Store(_, location) => location.clone(),
        }
    }

    /// `GET path` as JSON; anything but a 200 JSON answer is an error saying what came back.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let (status, body, why) = match self {
            Self::Server(client) => {
                let reply = client.get(path).await?;
                let why = reply.refusal();
                (reply.status, reply.body, why)
            }
            Self::Store(app, _) => {
                let (status, body) = app.get(path).await;
                let why = format!("{status}: {}", String::from_utf8_lossy(&body));
                (status, body, why)
            }
        };
        if status != 200 {
            anyhow::bail!("GET {path} from {}: {why}", self.location());
        }
        serde_json::from_slice(&body)
            .map_err(|e| anyhow::anyhow!("GET {path} from {}: not JSON: {e}", self.location()))
    }

    /// Lets go of the store, if one was opened.
    pub async fn close(self) {
        if let Self::Store(app, _) = self {
            app.close().await;
        }
    }
}
