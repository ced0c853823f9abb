//! The `marcus` binary: the native host of the Marcus app component.

use clap::Parser as _;
use marcus_host::{auth, cli, doctor, migrate, serve, status, stdio_bridge};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Commands that print answers for people or speak a protocol log warnings and errors
    // only, unless RUST_LOG asks for more.
    let default_level = match cli.command {
        cli::Command::Mcp(_) | cli::Command::Status(_) | cli::Command::Doctor(_) => "warn",
        _ => "info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    // Colour codes only for a person at a terminal, never into files or log collectors.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match cli.log_format {
        cli::LogFormat::Text => logs.init(),
        cli::LogFormat::Json => logs.json().with_current_span(true).init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            cli::Command::Serve(args) => serve::run(*args).await,
            cli::Command::Migrate(args) => migrate::run(args).await,
            cli::Command::Token(args) => as_command(auth::command::run(args)).await,
            cli::Command::Tenant(args) => {
                as_command(marcus_host::tenants::command::run(args)).await
            }
            cli::Command::Sso(args) => as_command(marcus_host::sso::command::run(args)).await,
            cli::Command::Audit(args) => marcus_host::audit::command::run(args).await,
            cli::Command::Mcp(args) => stdio_bridge::run(args).await,
            cli::Command::Status(args) => status::run(args).await,
            cli::Command::Doctor(args) => doctor::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an admin command as the operator's request, so the changes it makes are recorded
/// in the audit log with the command that made them.
async fn as_command<T>(work: impl Future<Output = T>) -> T {
    let words: Vec<String> = std::iter::once("marcus".to_string())
        .chain(std::env::args().skip(1))
        .collect();
    marcus_host::audit::request::command(&words).run(work).await
}
