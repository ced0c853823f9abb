//! The attributes Marcus serves for each resource type, with RFC 7643's characteristics:
//! one table read by the `/Schemas` document, by filters (which comparisons ignore case,
//! which values are times) and by PATCH (what may be written).

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension: identity providers send it; Marcus keeps none of it but
/// accepts bodies naming it.
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The two resource types Marcus serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// People (`/Users`).
    User,
    /// Groups of people (`/Groups`).
    Group,
}

impl ResourceKind {
    /// The type's schema and attributes.
    pub fn schema(self) -> &'static ResourceSchema {
        match self {
            ResourceKind::User => &USER,
            ResourceKind::Group => &GROUP,
        }
    }
}

/// An attribute's data type (RFC 7643 §2.3); only the ones Marcus serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// Text.
    String,
    /// `true` or `false`.
    Boolean,
    /// An RFC 3339 time, compared as a time.
    DateTime,
    /// A URI of another resource.
    Reference,
    /// An object of sub-attributes.
    Complex,
}

impl AttrType {
    /// The name `/Schemas` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// Who may write an attribute (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// Only the server.
    ReadOnly,
    /// The client, at any time.
    ReadWrite,
    /// The client, once.
    Immutable,
}

impl Mutability {
    /// The name `/Schemas` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
        }
    }
}

/// When an attribute is returned (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// Whatever `attributes`/`excludedAttributes` say.
    Always,
    /// Unless excluded.
    Default,
}

impl Returned {
    /// The name `/Schemas` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Default => "default",
        }
    }
}

/// One attribute and its characteristics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrDef {
    /// Its name as written on the wire (matched without case).
    pub name: &'static str,
    /// Its data type.
    pub kind: AttrType,
    /// Whether it holds a list.
    pub multi_valued: bool,
    /// Whether a resource must have it.
    pub required: bool,
    /// Whether string comparisons respect case.
    pub case_exact: bool,
    /// Who may write it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// Whether the server keeps it unique in the tenant.
    pub unique: bool,
    /// Suggested values.
    pub canonical: &'static [&'static str],
    /// For references, the resource types referred to.
    pub reference_types: &'static [&'static str],
    /// For complex attributes, their sub-attributes.
    pub sub: &'static [AttrDef],
    /// What it is, for `/Schemas`.
    pub description: &'static str,
}

const STRING: AttrDef = AttrDef {
    name: "",
    kind: AttrType::String,
    multi_valued: false,
    required: false,
    case_exact: false,
    mutability: Mutability::ReadWrite,
    returned: Returned::Default,
    unique: false,
    canonical: &[],
    reference_types: &[],
    sub: &[],
    description: "",
};

impl AttrDef {
    /// A sub-attribute by name, matched without case.
    pub fn sub_attr(&self, name: &str) -> Option<&'static AttrDef> {
        find(self.sub, name)
    }
}

/// An attribute in a list by name, matched without case (RFC 7643 §2.1).
pub fn find(attrs: &'static [AttrDef], name: &str) -> Option<&'static AttrDef> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// A resource type's schema.
#[derive(Debug)]
pub struct ResourceSchema {
    /// Which type.
    pub kind: ResourceKind,
    /// Its schema URN.
    pub urn: &'static str,
    /// Its name (`User`).
    pub name: &'static str,
    /// Its endpoint (`/Users`).
    pub endpoint: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Its attributes, less the common ones.
    pub attributes: &'static [AttrDef],
}

impl ResourceSchema {
    /// An attribute of the schema or a common one (`id`, `externalId`, `meta`), by name.
    pub fn attr(&self, name: &str) -> Option<&'static AttrDef> {
        find(self.attributes, name).or_else(|| find(COMMON, name))
    }

    /// Whether a schema URN (matched without case) names this resource type's core schema.
    pub fn is_core(&self, urn: &str) -> bool {
        self.urn.eq_ignore_ascii_case(urn)
    }
}

/// Attributes every resource has (RFC 7643 §3.1), outside the published schemas.
pub static COMMON: &[AttrDef] = &[
    AttrDef {
        name: "id",
        case_exact: true,
        mutability: Mutability::ReadOnly,
        returned: Returned::Always,
        unique: true,
        description: "The server's id for the resource.",
        ..STRING
    },
    AttrDef {
        name: "externalId",
        case_exact: true,
        description: "The identity provider's id for the resource.",
        ..STRING
    },
    AttrDef {
        name: "meta",
        kind: AttrType::Complex,
        mutability: Mutability::ReadOnly,
        sub: &[
            AttrDef {
                name: "resourceType",
                case_exact: true,
                mutability: Mutability::ReadOnly,
                ..STRING
            },
            AttrDef {
                name: "created",
                kind: AttrType::DateTime,
                mutability: Mutability::ReadOnly,
                ..STRING
            },
            AttrDef {
                name: "lastModified",
                kind: AttrType::DateTime,
                mutability: Mutability::ReadOnly,
                ..STRING
            },
            AttrDef {
                name: "location",
                kind: AttrType::Reference,
                case_exact: true,
                mutability: Mutability::ReadOnly,
                ..STRING
            },
            AttrDef {
                name: "version",
                case_exact: true,
                mutability: Mutability::ReadOnly,
                ..STRING
            },
        ],
        description: "What the server knows about the resource.",
        ..STRING
    },
];

static USER: ResourceSchema = ResourceSchema {
    kind: ResourceKind::User,
    urn: USER_SCHEMA,
    name: "User",
    endpoint: "/Users",
    description: "A person of the organisation",
    attributes: &[
        AttrDef {
            name: "userName",
            required: true,
            unique: true,
            description: "The login name, unique in the tenant regardless of case.",
            ..STRING
        },
        AttrDef {
            name: "name",
            kind: AttrType::Complex,
            sub: &[
                AttrDef {
                    name: "familyName",
                    description: "Family name.",
                    ..STRING
                },
                AttrDef {
                    name: "givenName",
                    description: "Given name.",
                    ..STRING
                },
            ],
            description: "The person's name in parts.",
            ..STRING
        },
        AttrDef {
            name: "displayName",
            description: "The name shown to people.",
            ..STRING
        },
        AttrDef {
            name: "emails",
            kind: AttrType::Complex,
            multi_valued: true,
            sub: &[
                AttrDef {
                    name: "value",
                    description: "The address.",
                    ..STRING
                },
                AttrDef {
                    name: "type",
                    canonical: &["work", "home", "other"],
                    description: "What the address is for.",
                    ..STRING
                },
                AttrDef {
                    name: "primary",
                    kind: AttrType::Boolean,
                    description: "Whether it is the preferred address; at most one is.",
                    ..STRING
                },
            ],
            description: "Email addresses.",
            ..STRING
        },
        AttrDef {
            name: "active",
            kind: AttrType::Boolean,
            // Always known: a new user without it is active, and it cannot be removed.
            required: true,
            description: "Whether the user may sign in; a new user without it is active.",
            ..STRING
        },
        AttrDef {
            name: "groups",
            kind: AttrType::Complex,
            multi_valued: true,
            mutability: Mutability::ReadOnly,
            sub: &[
                AttrDef {
                    name: "value",
                    case_exact: true,
                    mutability: Mutability::ReadOnly,
                    description: "The group's id.",
                    ..STRING
                },
                AttrDef {
                    name: "$ref",
                    kind: AttrType::Reference,
                    case_exact: true,
                    mutability: Mutability::ReadOnly,
                    reference_types: &["Group"],
                    description: "The group's URI.",
                    ..STRING
                },
                AttrDef {
                    name: "display",
                    mutability: Mutability::ReadOnly,
                    description: "The group's name.",
                    ..STRING
                },
            ],
            description: "The groups the user is in; changed through the groups.",
            ..STRING
        },
    ],
};

static GROUP: ResourceSchema = ResourceSchema {
    kind: ResourceKind::Group,
    urn: GROUP_SCHEMA,
    name: "Group",
    endpoint: "/Groups",
    description: "A group of the organisation's users",
    attributes: &[
        AttrDef {
            name: "displayName",
            required: true,
            description: "The group's name.",
            ..STRING
        },
        AttrDef {
            name: "members",
            kind: AttrType::Complex,
            multi_valued: true,
            sub: &[
                AttrDef {
                    name: "value",
                    case_exact: true,
                    mutability: Mutability::Immutable,
                    description: "The member user's id.",
                    ..STRING
                },
                AttrDef {
                    name: "$ref",
                    kind: AttrType::Reference,
                    case_exact: true,
                    mutability: Mutability::Immutable,
                    reference_types: &["User"],
                    description: "The member user's URI.",
                    ..STRING
                },
                AttrDef {
                    name: "display",
                    description: "A name for the member.",
                    ..STRING
                },
                AttrDef {
                    name: "type",
                    mutability: Mutability::Immutable,
                    canonical: &["User"],
                    description: "What the member is; always a user.",
                    ..STRING
                },
            ],
            description: "The group's members, each a user of the tenant.",
            ..STRING
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_found_without_case_and_common_ones_too() {
        let user = ResourceKind::User.schema();
        assert_eq!(user.attr("USERNAME").unwrap().name, "userName");
        assert_eq!(user.attr("externalid").unwrap().name, "externalId");
        let last = user.attr("meta").unwrap().sub_attr("LASTMODIFIED").unwrap();
        assert_eq!(last.kind, AttrType::DateTime);
        assert!(user.attr("members").is_none());
        assert!(
            ResourceKind::Group
                .schema()
                .attr("members")
                .unwrap()
                .multi_valued
        );
        assert!(user.is_core("URN:ietf:params:scim:schemas:core:2.0:user"));
        assert!(!user.attr("userName").unwrap().case_exact);
        assert!(user.attr("id").unwrap().case_exact);
    }
}
