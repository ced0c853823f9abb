//! SCIM 2.0 provisioning (RFC 7643, RFC 7644): an organisation's identity provider creates,
//! updates and deactivates the tenant's users and groups. This is the protocol without
//! storage or HTTP: the host routes requests, loads and stores records, checks uniqueness
//! and membership, and asks these modules what a body means and what to answer.
//!
//! - [`error`]: the error answer and its `scimType`s.
//! - [`schema`]: the attributes served and their characteristics.
//! - [`filter`]: filter expressions, evaluated on a resource's JSON.
//! - [`user_resource`], [`group_resource`]: stored records to and from SCIM resources.
//! - [`patch`]: PATCH operations as identity providers send them.
//! - [`list`]: list queries, pages and `ListResponse`.
//! - [`meta`]: locations, versions as ETags, `If-Match`.
//! - [`discovery`]: ServiceProviderConfig, ResourceTypes, Schemas.
//! - [`time`]: RFC 3339 times from and to milliseconds.

pub mod discovery;
pub mod error;
pub mod filter;
pub mod group_resource;
mod json;
pub mod list;
pub mod meta;
pub mod patch;
pub mod schema;
pub mod time;
pub mod user_resource;

pub use error::ScimError;
pub use filter::ScimFilter;
pub use list::ListQuery;
pub use patch::{apply_group_patch, apply_user_patch};
pub use schema::ResourceKind;
