//! `marcus status`: projects, tasks by status, agents and their leases. It asks the server
//! at `--url`; when none answers there it runs the app in this process on the stored
//! documents (`DATABASE_URL`, else the data directory's database) and asks it the same
//! routes, so the figures come from the rules the server applies either way.

pub mod board_source;
pub mod summary;
pub mod table;

use crate::backends::storage_choice::StorageChoice;
use crate::cli::StatusArgs;
use crate::in_process_app::InProcessApp;
use crate::server_client::{ExchangeError, ServerClient};
use anyhow::Context as _;
use board_source::BoardSource;
use std::time::Duration;
use summary::{ProjectAnswers, Summary};

/// How long each read from a server may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Prints the board's status from the server, else from the store.
pub async fn run(args: StatusArgs) -> anyhow::Result<()> {
    let client =
        ServerClient::new(&args.server.url, args.server.token.clone())?.with_timeout(READ_TIMEOUT);
    let source = match client.get("/healthz").await {
        Ok(_) => BoardSource::Server(client),
        Err(ExchangeError::Unreachable(why)) => open_store(&args, &why).await?,
        Err(failed) => anyhow::bail!("{failed}"),
    };
    let summary = gather(&source).await;
    source.close().await;
    let summary = summary?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", table::render(&summary));
    }
    Ok(())
}

/// The app on the store the settings name, when no server answered (`why`).
async fn open_store(args: &StatusArgs, why: &str) -> anyhow::Result<BoardSource> {
    let data_dir = crate::data_dir::resolve(args.data_dir.clone())?;
    let choice = StorageChoice::from_settings(args.database_url.as_deref(), &data_dir);
    if let StorageChoice::Sqlite(path) = &choice
        && !path.is_file()
    {
        anyhow::bail!(
            "{why}, and there is no board to read at {} either: start `marcus serve`, or point \
             --url (MARCUS_URL) at a server or --data-dir (MARCUS_HOME) at a data directory",
            path.display()
        );
    }
    let location = choice.describe();
    tracing::info!("no server answers ({why}); reading {location}");
    let app = InProcessApp::open(&choice, &data_dir)
        .await
        .with_context(|| format!("{why}; reading the board from {location} instead"))?;
    Ok(BoardSource::Store(Box::new(app), location))
}

/// Reads the project list, each project's status and queue, and the agents.
async fn gather(source: &BoardSource) -> anyhow::Result<Summary> {
    let list = source.get_json("/api/projects").await?;
    let mut projects = Vec::new();
    for project in list["projects"].as_array().into_iter().flatten() {
        let id = path_segment(project["id"].as_str().unwrap_or_default());
        projects.push(ProjectAnswers {
            status: source.get_json(&format!("/api/projects/{id}")).await?,
            queue: source
                .get_json(&format!("/api/projects/{id}/queue"))
                .await?,
        });
    }
    let agents = source.get_json("/api/agents").await?;
    Ok(summary::build(
        source.kind(),
        &source.location(),
        &list,
        &projects,
        &agents,
    ))
}

/// `text` as one path segment: unreserved characters as they are, the rest percent-encoded.
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_become_single_path_segments() {
        assert_eq!(super::path_segment("proj-1_a.b~"), "proj-1_a.b~");
        assert_eq!(super::path_segment("a/b c"), "a%2Fb%20c");
    }
}
