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
//! - [`role_map`]: provider claim and attribute values to roles, one rule for every way in.
//! - [`sso_binding`], [`session`], [`login_state`]: a tenant's identity providers, the
//!   browser sessions of people who signed in through them, and sign-ins in progress.
//! - [`user`], [`group`]: a tenant's people and groups as stored, shared by SCIM
//!   provisioning and single sign-on.
//! - [`scim`]: SCIM 2.0 provisioning of those users and groups, without storage or HTTP.
//! - [`oidc`] (feature `oidc`): an identity provider's access tokens, checked against its
//!   key set and mapped to a principal.

pub mod access;
pub mod digest;
pub mod group;
pub mod lifetime;
pub mod login_state;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod principal;
pub mod record;
pub mod role_map;
pub mod route_access;
pub mod scim;
pub mod session;
pub mod sso_binding;
pub mod tenant;
pub mod token;
pub mod user;
