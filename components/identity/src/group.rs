//! A group of a tenant's users, as stored: made by the organisation's identity provider over
//! SCIM so that access can follow the organisation's own groups.

use serde::{Deserialize, Serialize};

/// The storage collection of group records.
pub const COLLECTION: &str = "groups";

/// A stored group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// Opaque random id made by the caller; the SCIM `id`.
    pub id: String,
    /// The tenant the group belongs to.
    pub tenant: String,
    /// The group's name.
    pub display_name: String,
    /// The identity provider's own id for the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Its members, each a user of the same tenant, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
    /// When it was made (ms since the epoch).
    pub created_at: u64,
    /// When it last changed (ms since the epoch).
    pub updated_at: u64,
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member user's id.
    pub value: String,
    /// A name for the member, as the identity provider sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl GroupRecord {
    /// Whether the user is a member, to list a user's groups.
    pub fn has_member(&self, user_id: &str) -> bool {
        self.members.iter().any(|m| m.value == user_id)
    }

    /// The members' user ids, for the caller to check they exist in the tenant.
    pub fn member_ids(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| m.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_json_round_trips_and_skips_absent_fields() {
        let g = GroupRecord {
            id: "g1".into(),
            tenant: "acme".into(),
            display_name: "Engineering".into(),
            external_id: None,
            members: vec![Member {
                value: "u1".into(),
                display: None,
            }],
            created_at: 1,
            updated_at: 2,
        };
        let v = serde_json::to_value(&g).unwrap();
        assert!(v.get("external_id").is_none());
        assert!(v["members"][0].get("display").is_none());
        assert_eq!(serde_json::from_value::<GroupRecord>(v).unwrap(), g);
        assert!(g.has_member("u1"));
        assert!(!g.has_member("u2"));
        assert_eq!(g.member_ids().collect::<Vec<_>>(), vec!["u1"]);
    }
}
