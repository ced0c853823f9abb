//! Who a request is and what it may do, as rules both hosts apply: the native host verifies
//! credentials with this crate before the guest runs, and the Spin adapter verifies them with
//! the same code. The app never parses a credential; it asks its host for the principal.
//!
//! - [`token`]: the access token format (a recognisable prefix, a random part, a checksum),
//!   so secret scanners find leaked tokens offline.
//! - [`digest`]: tokens are stored only as a keyed HMAC-SHA-256 digest, compared in constant
//!   time.
//! - [`lifetime`]: expiry is required, 30 days by default, at most 365.
//! - [`principal`]: the verified caller: tenant, subject, kind, role, scopes, how it was
//!   verified, and the agent ids it may act as.
//! - [`access`]: what each role may do.
//! - [`record`]: a token as stored, without the token.
//! - [`route_access`]: the access each route needs.
//! - [`tenant`]: tenant names, the server scope, scoped cache keys and channels, quotas.
//! - [`oidc`] (feature `oidc`): an identity provider's access tokens, checked against its
//!   key set and mapped to a principal.

pub mod access;
pub mod digest;
pub mod lifetime;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod principal;
pub mod record;
pub mod route_access;
pub mod tenant;
pub mod token;
