//! Webhooks: per-project subscriptions to board event kinds, and the signature that lets a
//! receiver prove a delivery came from this Marcus and is fresh.

pub mod delivery;
pub mod destination;
pub mod signature;
pub mod subscription;

pub use delivery::{Attempt, Delivery, FailureClass};
pub use subscription::{NewWebhook, Webhook};
