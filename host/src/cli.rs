//! Command line: every flag has an environment variable so containers need no arguments.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Marcus: a coordination board for AI coding agents and the people who watch them.
#[derive(Debug, Parser)]
#[command(name = "marcus", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Log lines as human-readable text or as JSON objects for log collectors.
    #[arg(
        long,
        global = true,
        env = "MARCUS_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event, with the request span's fields (request id, method, route).
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the board: MCP at /mcp, the JSON API under /api.
    Serve(Box<ServeArgs>),
    /// Copy all data between SQLite and PostgreSQL, then verify it.
    Migrate(MigrateArgs),
    /// Make, list and revoke access tokens (on the data directory's database, or DATABASE_URL).
    Token(TokenArgs),
    /// Make, list, disable and limit tenants (on the data directory's database, or
    /// DATABASE_URL).
    Tenant(TenantArgs),
    /// Bind tenants' identity providers for single sign-on (on the data directory's
    /// database, or DATABASE_URL).
    Sso(SsoArgs),
    /// Export, verify, checkpoint and prune the audit log (on the data directory's database,
    /// or DATABASE_URL).
    Audit(AuditArgs),
    /// MCP over stdin/stdout, relayed to a running server (for clients that only launch
    /// commands).
    Mcp(McpArgs),
    /// Projects, tasks by status, agents and their leases: from a running server, else from
    /// the data directory.
    Status(StatusArgs),
    /// Check the data directory, databases, Redis, the listen port and the app component.
    Doctor(DoctorArgs),
}

/// Where a running server is and how to sign in to it (`marcus mcp`, `marcus status`).
#[derive(Clone, Args)]
pub struct ServerArgs {
    /// The server's base URL.
    #[arg(long, env = "MARCUS_URL", default_value = "http://127.0.0.1:4298")]
    pub url: String,
    /// An access token, sent as `Authorization: Bearer` (never logged).
    #[arg(long, env = "MARCUS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

impl std::fmt::Debug for ServerArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerArgs")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// `marcus mcp` options.
#[derive(Debug, Args)]
#[command(after_help = "\
Reads one JSON-RPC message per line on stdin, posts each to <url>/mcp and writes each
answer as one line on stdout; diagnostics go to stderr. A client configuration:

  {\"command\": \"marcus\", \"args\": [\"mcp\", \"--url\", \"http://127.0.0.1:4298\"]}

When the server cannot be reached or refuses a request (401, 5xx), the request gets a
JSON-RPC error naming the reason. The session's notifications (ready tasks, expiring leases,
resolved blockers) are written as lines as they come. At the end of stdin the session is
ended on the server.")]
pub struct McpArgs {
    /// The server to relay to.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `marcus status` options.
#[derive(Debug, Args)]
#[command(after_help = "\
Asks the server at --url (MARCUS_URL). When no server answers there, reads the board from
DATABASE_URL when set, else from the data directory's database, with the same app code a
server runs. The exit status is non-zero when neither can be read.")]
pub struct StatusArgs {
    /// The server to ask first.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Data directory to read when no server answers [default: $MARCUS_HOME or ~/.marcus].
    #[arg(long, env = "MARCUS_HOME")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL to read when no server answers, instead of the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Print one JSON object instead of the tables.
    #[arg(long)]
    pub json: bool,
}

/// `marcus doctor` options.
#[derive(Debug, Args)]
#[command(after_help = "\
Each check is ok, warn or fail, with what it found and, when not ok, what to do. The
exit status is 1 when a check fails. Reads the same settings as `marcus serve`.")]
pub struct DoctorArgs {
    /// The data directory to check [default: $MARCUS_HOME or ~/.marcus].
    #[arg(long, env = "MARCUS_HOME")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL to check (skipped when unset).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Redis to check (skipped when unset).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// The address `marcus serve` would listen on.
    #[arg(long, env = "MARCUS_LISTEN", default_value = "127.0.0.1:4298", value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// Print the checks as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `marcus token` options.
#[derive(Debug, Args)]
#[command(after_help = "\
EXAMPLES:
  marcus token create --role agent --agent a1 --name ci --expires 30d
  marcus token create --role admin --name ops --expires 90d
  marcus token list
  marcus token revoke ci

A token is printed once, when it is made; only a keyed digest of it is stored. Roles: admin
(tokens, settings, raw storage, everything), member (everything on the board, as any
agent), agent (register, claim, report, log, read: only as the agents named with --agent),
viewer (read only). Expiry is required: 30 days unless --expires says otherwise, at most
365 days (e.g. 12h, 7d, 365d).")]
pub struct TokenArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: TokenAction,
    /// Directory of the database [default: $MARCUS_HOME or ~/.marcus].
    #[arg(long, global = true, env = "MARCUS_HOME")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL storage instead of the data directory's SQLite.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// `marcus token` actions.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Make a token and print it (once).
    Create {
        /// admin, member, agent or viewer.
        #[arg(long)]
        role: String,
        /// An agent id an agent token may act as (repeat for several).
        #[arg(long = "agent")]
        agents: Vec<String>,
        /// A name for people (`ci`, `laptop`).
        #[arg(long)]
        name: String,
        /// How long it lives: hours or days (`12h`, `30d`), at most 365 days.
        #[arg(long)]
        expires: Option<String>,
        /// The tenant it belongs to (`marcus tenant create` makes one) [default: default].
        #[arg(long)]
        tenant: Option<String>,
        /// An admin token that also administers the installation: tenants and every
        /// tenant's tokens.
        #[arg(long)]
        server_admin: bool,
        /// Print only the token (for scripts).
        #[arg(long)]
        quiet: bool,
    },
    /// List the tokens (never the tokens themselves).
    List {
        /// Only this tenant's tokens.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a token by its id or name.
    Revoke {
        /// The token's id (from `list`) or its name.
        token: String,
    },
}

/// `marcus tenant` options.
#[derive(Debug, Args)]
#[command(after_help = "\
EXAMPLES:
  marcus tenant create acme
  marcus tenant create globex --projects 20 --tasks 5000 --stored-mb 100 --requests-per-minute 600
  marcus tenant list
  marcus tenant quota acme --tasks 10000
  marcus tenant disable acme
  marcus token create --tenant acme --role admin --name acme-ops

A tenant is an organisation with its own projects, agents, tasks, tokens, webhooks, jobs,
cache entries and event streams; no request of one ever sees another's. A board made before
tenants existed is the `default` tenant, which always exists. A disabled tenant's tokens are
refused; its data stays.")]
pub struct TenantArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: TenantAction,
    /// Directory of the database [default: $MARCUS_HOME or ~/.marcus].
    #[arg(long, global = true, env = "MARCUS_HOME")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL storage instead of the data directory's SQLite.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// A tenant's limits as options (absent: no limit).
#[derive(Debug, Clone, Args)]
pub struct QuotaArgs {
    /// Projects it may hold.
    #[arg(long)]
    pub projects: Option<u64>,
    /// Tasks it may hold, over all its projects.
    #[arg(long)]
    pub tasks: Option<u64>,
    /// Megabytes of stored documents.
    #[arg(long)]
    pub stored_mb: Option<u64>,
    /// Requests per minute over all its credentials.
    #[arg(long)]
    pub requests_per_minute: Option<u64>,
}

/// `marcus tenant` actions.
#[derive(Debug, Subcommand)]
pub enum TenantAction {
    /// Make a tenant (lower-case letters, digits and -).
    Create {
        /// Its name.
        name: String,
        /// Its quotas.
        #[command(flatten)]
        quotas: QuotaArgs,
    },
    /// List the tenants with their state and quotas.
    List,
    /// Refuse every credential of a tenant from now on (its data stays).
    Disable {
        /// Its name.
        name: String,
    },
    /// Serve a disabled tenant again.
    Enable {
        /// Its name.
        name: String,
    },
    /// Replace a tenant's quotas (options left out: no limit).
    Quota {
        /// Its name.
        name: String,
        /// Its quotas.
        #[command(flatten)]
        quotas: QuotaArgs,
    },
}

/// `marcus sso` options.
#[derive(Debug, Args)]
#[command(after_help = "\
EXAMPLES:
  marcus sso oidc set --tenant acme --issuer https://id.acme.example \\
      --client-id marcus --client-secret \"$SECRET\" \\
      --role-claim groups --role-map 'acme:admin=admin,acme:dev=member,acme:all=viewer'
  marcus sso show

  marcus sso saml set --tenant acme --idp-metadata https://idp.acme.example/metadata \\
      --role-attribute groups --role-map 'acme:admin=admin,acme:dev=member'

People then sign in at <public URL>/auth/oidc/login?tenant=acme (register
<public URL>/auth/oidc/callback as the client's redirect URI at the provider) or
<public URL>/auth/saml/login?tenant=acme (give the provider the service provider's metadata
at <public URL>/auth/saml/metadata?tenant=acme). Their groups grant the most powerful mapped
role; a person whose groups map to no role is refused.")]
pub struct SsoArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: SsoAction,
    /// Directory of the database [default: $MARCUS_HOME or ~/.marcus].
    #[arg(long, global = true, env = "MARCUS_HOME")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL storage instead of the data directory's SQLite.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// `marcus audit` options.
#[derive(Debug, Args)]
#[command(after_help = "\
EXAMPLES:
  marcus audit verify                      # every tenant; exit 1 names the first bad record
  marcus audit verify --tenant acme --public-key 3b6a27bc…
  marcus audit export --tenant acme --since 1767225600000 > acme-audit.jsonl
  marcus audit key                         # the public key to keep somewhere else

Each tenant's records form a hash chain; checkpoints sign its head with the server's
Ed25519 key ($MARCUS_AUDIT_SIGNING_KEY, else audit-signing.key in the data directory).")]
pub struct AuditArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: AuditAction,
    /// Directory of the database and the signing key [default: $MARCUS_HOME or ~/.marcus].
    #[arg(long, global = true, env = "MARCUS_HOME")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL storage instead of the data directory's SQLite.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    /// One JSON record per line.
    Jsonl,
}

/// `marcus audit` actions.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Write records to stdout, oldest first.
    Export {
        /// Only this tenant's records [default: every tenant's].
        #[arg(long)]
        tenant: Option<String>,
        /// Only records at or after this time (milliseconds since the Unix epoch).
        #[arg(long, default_value_t = 0)]
        since: u64,
        /// The output format.
        #[arg(long, value_enum, default_value_t = AuditFormat::Jsonl)]
        format: AuditFormat,
    },
    /// Check every record's hash, the chain's links and the signed checkpoints; exit 1 and
    /// name the first bad sequence number when anything was changed, removed or reordered.
    Verify {
        /// Only this tenant's chain [default: every tenant's].
        #[arg(long)]
        tenant: Option<String>,
        /// A public key (hex) checkpoints must be signed by; repeatable [default: this data
        /// directory's key].
        #[arg(long = "public-key")]
        public_keys: Vec<String>,
    },
    /// Sign each chain's head now (servers do it every 1000 records and every hour).
    Checkpoint {
        /// Only this tenant's chain [default: every tenant's].
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Remove a tenant's records before a sequence number, only behind its last
    /// checkpoint, so the rest still verifies.
    Prune {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Remove records with a smaller sequence number.
        #[arg(long)]
        before_seq: u64,
    },
    /// Print the public key that verifies this server's checkpoints.
    Key,
}

/// `marcus sso` actions.
#[derive(Debug, Subcommand)]
pub enum SsoAction {
    /// A tenant's OpenID Connect provider.
    Oidc {
        /// What to do with it.
        #[command(subcommand)]
        action: OidcAction,
    },
    /// A tenant's SAML 2.0 identity provider.
    Saml {
        /// What to do with it.
        #[command(subcommand)]
        action: SamlAction,
    },
    /// Show every tenant's identity providers (secrets are never shown).
    Show,
}

/// `marcus sso saml` actions.
#[derive(Debug, Subcommand)]
pub enum SamlAction {
    /// Bind (or replace) a tenant's SAML identity provider.
    Set {
        /// The tenant whose people sign in there.
        #[arg(long)]
        tenant: String,
        /// The provider's metadata: a URL (read now) or a file.
        #[arg(long)]
        idp_metadata: String,
        /// The attribute whose values grant roles.
        #[arg(long, default_value = marcus_identity::sso_binding::DEFAULT_ROLE_CLAIM)]
        role_attribute: String,
        /// Attribute value to role: value=role,… (the most powerful role granted wins).
        #[arg(long, default_value = marcus_identity::oidc::DEFAULT_ROLE_MAP)]
        role_map: String,
        /// Accept responses the provider sends without a request of Marcus's
        /// (IdP-initiated sign-in).
        #[arg(long)]
        allow_unsolicited: bool,
    },
    /// Unbind a tenant's SAML identity provider (its people's sessions end).
    Unset {
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
}

/// `marcus sso oidc` actions.
#[derive(Debug, Subcommand)]
pub enum OidcAction {
    /// Bind (or replace) a tenant's OpenID Connect provider.
    Set {
        /// The tenant whose people sign in there.
        #[arg(long)]
        tenant: String,
        /// The provider's issuer URL (https://, or http:// on loopback).
        #[arg(long)]
        issuer: String,
        /// The client id registered at the provider.
        #[arg(long)]
        client_id: String,
        /// The client's secret.
        #[arg(long, env = "MARCUS_SSO_CLIENT_SECRET", hide_env_values = true)]
        client_secret: String,
        /// The ID token claim whose values grant roles.
        #[arg(long, default_value = marcus_identity::sso_binding::DEFAULT_ROLE_CLAIM)]
        role_claim: String,
        /// Claim value to role: value=role,… (the most powerful role granted wins).
        #[arg(long, default_value = marcus_identity::oidc::DEFAULT_ROLE_MAP)]
        role_map: String,
    },
    /// Unbind a tenant's OpenID Connect provider (its people's sessions end).
    Unset {
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
}

/// `marcus migrate` options.
#[derive(Debug, Args)]
#[command(after_help = "\
EXAMPLES:
  marcus migrate --from sqlite --to postgres          # solo → team (DATABASE_URL)
  marcus migrate --from postgres --to sqlite:backup.db
  marcus migrate --from sqlite:old.db --to postgres:postgresql://u@db/marcus --dry-run

Stores: sqlite (the data dir's marcus.db), sqlite:PATH, postgres (DATABASE_URL),
postgres:URL. A target with documents is refused unless --merge or --overwrite; an
interrupted run is finished by running the same command again. The exit status is non-zero
when anything fails, including verification (the message names the collection).")]
pub struct MigrateArgs {
    /// Where to read: sqlite[:PATH] or postgres[:URL].
    #[arg(long)]
    pub from: String,

    /// Where to write: sqlite[:PATH] or postgres[:URL].
    #[arg(long)]
    pub to: String,

    /// Data directory for a bare `sqlite` [default: $MARCUS_HOME or ~/.marcus].
    #[arg(long, env = "MARCUS_HOME")]
    pub data_dir: Option<PathBuf>,

    /// Documents read and written per round trip (1-1000).
    #[arg(long, default_value_t = 1000)]
    pub batch_size: u32,

    /// Add to a non-empty target: identical documents are skipped, different ones reported
    /// as conflicts (and left as they are).
    #[arg(long, conflicts_with = "overwrite")]
    pub merge: bool,

    /// Replace documents the target already has.
    #[arg(long)]
    pub overwrite: bool,

    /// Only print what would be copied.
    #[arg(long)]
    pub dry_run: bool,

    /// No progress and no summary (errors still go to stderr).
    #[arg(long)]
    pub quiet: bool,

    /// Print a machine-readable JSON summary on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `marcus serve` options.
#[derive(Debug, Args)]
#[command(after_help = "\
ENVIRONMENT:
  MARCUS_LISTEN              same as --listen
  MARCUS_HOME                same as --data-dir (default ~/.marcus)
  MARCUS_REQUEST_TIMEOUT_MS  same as --request-timeout-ms
  MARCUS_MEMORY_LIMIT_MB     same as --memory-limit-mb
  MARCUS_MAX_CONCURRENT      same as --max-concurrent
  MARCUS_MAX_CONNECTIONS     same as --max-connections
  MARCUS_BODY_TIMEOUT_MS     same as --body-timeout-ms
  MARCUS_HEADER_TIMEOUT_MS   same as --header-timeout-ms
  MARCUS_CACHE_ENTRIES       same as --cache-entries
  MARCUS_SQLITE_SYNC         same as --sqlite-sync (normal | full)
  MARCUS_DEBUG_ROUTES        same as --debug-routes (1/true)
  MARCUS_ALLOWED_HOSTS       same as --allowed-hosts (comma list, * for any)
  MARCUS_ALLOWED_ORIGINS     same as --allowed-origins (comma list of scheme://host[:port])
  DATABASE_URL               same as --database-url (postgresql://user@host:5432/db)
  REDIS_URL                  same as --redis-url (redis://host:6379)
  MARCUS_REDIS_PREFIX        same as --redis-prefix (default marcus:)
  ENABLE_WEBSOCKETS          same as --websockets (0/false turns /api/ws off)
  MARCUS_SWEEP_INTERVAL_MS   same as --sweep-interval-ms (0 turns the lease sweep off)
  MARCUS_JOBS_INTERVAL_MS    same as --jobs-interval-ms (0: this host runs no queued jobs)
  MARCUS_LOG_FORMAT          same as --log-format (text | json)
  MARCUS_WEBHOOK_ALLOW       same as --webhook-allow (comma list, e.g. 127.0.0.1:8080,10.0.0.0/8)
  MARCUS_REQUIRE_AUTH        same as --require-auth (1/true)
  MARCUS_RATE_LIMIT          same as --rate-limit (requests a minute per principal, 0: off)
  MARCUS_RATE_LIMIT_ANONYMOUS  same as --rate-limit-anonymous (per client address, 0: off)
  MARCUS_INSECURE_NO_AUTH    same as --insecure-no-auth (1/true)
  MARCUS_PUBLIC_URL          same as --public-url (https://marcus.example.com)
  MARCUS_OIDC_ISSUER         same as --oidc-issuer (accept the provider's access tokens)
  MARCUS_OIDC_AUDIENCE       same as --oidc-audience (default <public URL>/mcp)
  MARCUS_OIDC_ROLE_CLAIM     same as --oidc-role-claim (default scope)
  MARCUS_OIDC_ROLE_MAP       same as --oidc-role-map (value=role,...)
  MARCUS_OIDC_AGENT_CLAIM    same as --oidc-agent-claim (default sub)
  RUST_LOG                   log filter, e.g. info, marcus=debug (default info)

With no configuration Marcus runs in the solo tier: SQLite at <data-dir>/marcus.db, an
in-memory cache and in-process events. DATABASE_URL and REDIS_URL switch on the team tier:
PostgreSQL storage shared by several hosts, a Redis cache layer above memory and Redis
pub/sub events across hosts. A Redis that is down at start (or later) is picked up as soon
as it answers; meanwhile the cache serves from memory.

SLOW AND IDLE CLIENTS:
A request body is read in full by the host before the request takes an execution slot,
within --body-timeout-ms (else 408 request_timeout, connection closed). A connection must
deliver each request head within --header-timeout-ms of opening or of its previous
response, so this is also the keep-alive idle timeout. At most --max-connections are open
at once (lowered to fit the open-files limit, which is raised to the hard limit at start);
a connection over the cap gets 503 too_many_connections with Retry-After and is closed.
/healthz is answered by the host without a slot; /readyz answers 503 when storage is down,
when every slot has been busy for over 2 s, or when the connection cap is reached.")]
pub struct ServeArgs {
    /// Address to listen on, `host:port` with an address or a name such as `localhost`
    /// (port 0 picks a free port; the chosen URL is printed).
    #[arg(long, env = "MARCUS_LISTEN", default_value = "127.0.0.1:4298", value_parser = parse_listen)]
    pub listen: SocketAddr,

    /// Directory for the database and the compiled-code cache [default: $MARCUS_HOME or ~/.marcus].
    #[arg(long, env = "MARCUS_HOME")]
    pub data_dir: Option<PathBuf>,

    /// Serve this component instead of the embedded app (it must import marcus:platform
    /// and export wasi:http/incoming-handler).
    #[arg(long, env = "MARCUS_COMPONENT")]
    pub component: Option<PathBuf>,

    /// Per-request execution deadline in milliseconds; a request past it answers 500.
    #[arg(long, env = "MARCUS_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// Per-request memory cap of the app, in MiB.
    #[arg(long, env = "MARCUS_MEMORY_LIMIT_MB", default_value_t = 128)]
    pub memory_limit_mb: usize,

    /// Requests executed at once (each gets a pooled instance slot); others wait.
    #[arg(long, env = "MARCUS_MAX_CONCURRENT", default_value_t = 128)]
    pub max_concurrent: u32,

    /// Client connections open at once; one more is answered 503 too_many_connections and
    /// closed.
    #[arg(long, env = "MARCUS_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Time a request body may take to arrive, in milliseconds (read before the request
    /// takes a slot); past it the answer is 408 and the connection is closed.
    #[arg(long, env = "MARCUS_BODY_TIMEOUT_MS", default_value_t = 10_000)]
    pub body_timeout_ms: u64,

    /// Time a connection may take to deliver a complete request head, in milliseconds,
    /// counted from its opening or its previous response (so also the keep-alive idle
    /// timeout); past it the connection is closed.
    #[arg(long, env = "MARCUS_HEADER_TIMEOUT_MS", default_value_t = 15_000)]
    pub header_timeout_ms: u64,

    /// Entries the in-memory cache keeps (least recently used are evicted).
    #[arg(long, env = "MARCUS_CACHE_ENTRIES", default_value_t = crate::cache::memory::DEFAULT_CAPACITY)]
    pub cache_entries: usize,

    /// Audit records per signed checkpoint of a tenant's chain (0: only the timer checkpoints).
    #[arg(long, env = "MARCUS_AUDIT_CHECKPOINT_EVERY", default_value_t = crate::audit::DEFAULT_CHECKPOINT_EVERY)]
    pub audit_checkpoint_every: u64,

    /// Seconds between checkpoints of every chain that grew since its last one.
    #[arg(
        long,
        env = "MARCUS_AUDIT_CHECKPOINT_INTERVAL_S",
        default_value_t = 3600
    )]
    pub audit_checkpoint_interval_s: u64,

    /// SQLite durability: `normal` survives process crashes (a power loss may drop the last
    /// commits), `full` waits for the disk on every commit.
    #[arg(long, env = "MARCUS_SQLITE_SYNC", value_enum, default_value = "normal")]
    pub sqlite_sync: crate::storage::sqlite::SyncMode,

    /// Further `Host` names served on a loopback listen address (comma-separated; `*` for
    /// any). Loopback names (localhost, 127.0.0.0/8, [::1]) are always served; other names are
    /// refused there so that a DNS-rebinding page cannot reach the board.
    #[arg(long, env = "MARCUS_ALLOWED_HOSTS", default_value = "")]
    pub allowed_hosts: String,

    /// Further origins whose pages may call this server from a browser
    /// (comma-separated `scheme://host[:port]`); requests from any other foreign origin get 403.
    #[arg(long, env = "MARCUS_ALLOWED_ORIGINS", default_value = "")]
    pub allowed_origins: String,

    /// Require credentials on a loopback listen address too (any other address requires
    /// them anyway).
    #[arg(long, env = "MARCUS_REQUIRE_AUTH", default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub require_auth: bool,

    /// Serve an exposed (non-loopback) address without credentials: anyone who reaches the
    /// port may do anything. For a network you control completely; logged loudly.
    #[arg(long, env = "MARCUS_INSECURE_NO_AUTH", default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub insecure_no_auth: bool,

    /// Requests a minute each verified principal may make (shared by every host through
    /// Redis in the team tier); 0 switches the limit off. The local admin of a loopback
    /// server has none.
    #[arg(long, env = "MARCUS_RATE_LIMIT", default_value_t = 3000)]
    pub rate_limit: u32,

    /// Requests a minute each client address may make without valid credentials; a refused
    /// credential counts as 10. 0 switches the limit off.
    #[arg(long, env = "MARCUS_RATE_LIMIT_ANONYMOUS", default_value_t = 300)]
    pub rate_limit_anonymous: u32,

    /// The URL clients reach this server at (behind a proxy or on an exposed address);
    /// by default `http://<listen address>`.
    #[arg(long, env = "MARCUS_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Also accept access tokens from this OpenID Connect provider (its issuer URL): `/mcp`
    /// becomes an OAuth 2.1 resource server and credentials are required, on loopback too.
    #[arg(long, env = "MARCUS_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// The audience the provider's tokens must name [default: <public URL>/mcp].
    #[arg(long, env = "MARCUS_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,

    /// The claim whose values grant roles (a space-separated string or an array).
    #[arg(long, env = "MARCUS_OIDC_ROLE_CLAIM", default_value = "scope")]
    pub oidc_role_claim: String,

    /// Claim value to role, `value=role,…`; the most powerful role granted wins.
    #[arg(long, env = "MARCUS_OIDC_ROLE_MAP", default_value = marcus_identity::oidc::DEFAULT_ROLE_MAP)]
    pub oidc_role_map: String,

    /// The claim naming the agent id an agent-role token acts as.
    #[arg(long, env = "MARCUS_OIDC_AGENT_CLAIM", default_value = "sub")]
    pub oidc_agent_claim: String,

    /// Enable /api/debug/trap and /api/debug/spin (for tests of fault isolation only; only
    /// the test build has them, a release build refuses this flag).
    #[arg(long, env = "MARCUS_DEBUG_ROUTES", default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub debug_routes: bool,

    /// PostgreSQL storage instead of SQLite (postgresql:// or postgres:// URL); the server
    /// must answer at start.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Redis for the cache layer and cross-host events (redis:// or unix:// URL).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Prefix of every Redis key and channel, so installations can share one Redis.
    #[arg(long, env = "MARCUS_REDIS_PREFIX", default_value = "marcus:")]
    pub redis_prefix: String,

    /// How often the lease-expiry sweep job runs, in milliseconds (0: never; leases then
    /// expire only when someone asks for work).
    #[arg(long, env = "MARCUS_SWEEP_INTERVAL_MS", default_value_t = 5_000)]
    pub sweep_interval_ms: u64,

    /// How often this host runs due background jobs from the shared queue (webhook
    /// deliveries and their retries, health recomputes, the lease sweep), in milliseconds
    /// (0: never; other hosts or `POST /api/jobs/run` must then run them).
    #[arg(long, env = "MARCUS_JOBS_INTERVAL_MS", default_value_t = 1_000)]
    pub jobs_interval_ms: u64,

    /// Non-public webhook destinations to allow, comma-separated: host names
    /// (`hooks.internal`, `*.corp.example`), addresses and ranges (`127.0.0.1`, `10.0.0.0/8`,
    /// `fd00::/8`), each optionally with `:port`. Without an entry, deliveries reach public
    /// addresses only (never loopback, link-local or private ones).
    #[arg(long, env = "MARCUS_WEBHOOK_ALLOW", default_value = "", value_parser = parse_allow_list)]
    pub webhook_allow: marcus_core::webhooks::destination::AllowList,

    /// Serve WebSocket push at /api/ws (SSE at /api/events/stream is always on).
    #[arg(long, env = "ENABLE_WEBSOCKETS", default_value_t = true, action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub websockets: bool,
}

/// Checks `--webhook-allow` at start, so a typo is a refusal to start rather than a
/// destination silently refused later.
fn parse_allow_list(spec: &str) -> Result<marcus_core::webhooks::destination::AllowList, String> {
    marcus_core::webhooks::destination::AllowList::parse(spec)
}

/// A listen address: `127.0.0.1:4298`, `[::1]:4298`, or a name that resolves
/// (`localhost:4298`), preferring its IPv4 address, as browsers do for `localhost`.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(format!(
            "{text:?} is not host:port (for example 127.0.0.1:4298 or localhost:4298)"
        ));
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{port:?} in {text:?} is not a port number (0 to 65535)"))?;
    let resolved: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|e| format!("{host:?} does not resolve: {e}"))?
        .collect();
    resolved
        .iter()
        .find(|a| a.is_ipv4())
        .or(resolved.first())
        .copied()
        .ok_or_else(|| format!("{host:?} resolves to no address"))
}

#[cfg(test)]
mod tests {
    use super::parse_listen;

    #[test]
    fn listen_addresses_and_names_resolve_and_nonsense_is_refused() {
        assert_eq!(
            parse_listen("127.0.0.1:4298").unwrap().to_string(),
            "127.0.0.1:4298"
        );
        assert_eq!(parse_listen("[::1]:0").unwrap().to_string(), "[::1]:0");
        let named = parse_listen("localhost:4298").unwrap();
        assert!(named.ip().is_loopback() && named.port() == 4298, "{named}");
        assert!(parse_listen("localhost").unwrap_err().contains("host:port"));
        assert!(parse_listen("localhost:http").unwrap_err().contains("port"));
        assert!(parse_listen("localhost:70000").is_err());
    }
}
