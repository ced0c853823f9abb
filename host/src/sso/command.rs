//! `marcus sso`: binds tenants' identity providers on the data directory's database (or
//! `DATABASE_URL`), where every server of the installation reads them.

use super::bindings;
use crate::backends::storage_choice::StorageChoice;
use crate::cli::{OidcAction, SamlAction, SsoAction, SsoArgs};
use crate::storage::StorageBackend;
#[cfg(feature = "saml")]
use marcus_identity::sso_binding::SamlBinding;
use marcus_identity::sso_binding::{OidcBinding, check_issuer};

/// Runs one `marcus sso` action.
pub async fn run(args: SsoArgs) -> anyhow::Result<()> {
    let storage =
        StorageChoice::open_for_command(args.data_dir.clone(), args.database_url.as_deref())
            .await?;
    let outcome = act(&args.action, &*storage).await;
    storage.close().await;
    outcome
}

async fn act(action: &SsoAction, storage: &dyn StorageBackend) -> anyhow::Result<()> {
    match action {
        SsoAction::Oidc {
            action:
                OidcAction::Set {
                    tenant,
                    issuer,
                    client_id,
                    client_secret,
                    role_claim,
                    role_map,
                },
        } => {
            served(storage, tenant).await?;
            check_issuer(issuer).map_err(anyhow::Error::msg)?;
            marcus_identity::role_map::parse(role_map)
                .map_err(|e| anyhow::anyhow!("--role-map: {e}"))?;
            for (name, value) in [
                ("--client-id", client_id),
                ("--client-secret", client_secret),
                ("--role-claim", role_claim),
            ] {
                if value.trim().is_empty() {
                    anyhow::bail!("{name} is empty");
                }
            }
            let oidc = OidcBinding {
                issuer: issuer.clone(),
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                role_claim: role_claim.clone(),
                role_map: role_map.clone(),
            };
            bindings::update(storage, tenant, |b| b.oidc = Some(oidc.clone())).await?;
            println!(
                "tenant {tenant} signs in with {issuer} (client {client_id}; roles from {role_claim}: {role_map})"
            );
            println!(
                "register <public URL>{} as the client's redirect URI; people sign in at <public URL>/auth/oidc/login?tenant={tenant}",
                super::oidc_login::CALLBACK_PATH
            );
        }
        SsoAction::Oidc {
            action: OidcAction::Unset { tenant },
        } => {
            served(storage, tenant).await?;
            bindings::update(storage, tenant, |b| b.oidc = None).await?;
            let ended = super::sessions::end_all_in(storage, tenant, "oidc").await?;
            println!(
                "tenant {tenant} no longer signs in with OpenID Connect ({ended} sessions ended)"
            );
        }
        #[cfg(feature = "saml")]
        SsoAction::Saml {
            action:
                SamlAction::Set {
                    tenant,
                    idp_metadata,
                    role_attribute,
                    role_map,
                    allow_unsolicited,
                },
        } => {
            served(storage, tenant).await?;
            marcus_identity::role_map::parse(role_map)
                .map_err(|e| anyhow::anyhow!("--role-map: {e}"))?;
            let xml = read_metadata(idp_metadata).await?;
            let idp_entity_id = super::saml::idp_entity_id(&xml)
                .map_err(|e| anyhow::anyhow!("--idp-metadata {idp_metadata}: {e}"))?;
            let saml = SamlBinding {
                idp_entity_id: idp_entity_id.clone(),
                idp_metadata_xml: xml,
                role_attribute: role_attribute.clone(),
                role_map: role_map.clone(),
                allow_unsolicited: *allow_unsolicited,
            };
            bindings::update(storage, tenant, |b| b.saml = Some(saml.clone())).await?;
            println!(
                "tenant {tenant} signs in with the SAML identity provider {idp_entity_id} (roles from {role_attribute}: {role_map}{})",
                if *allow_unsolicited {
                    "; IdP-initiated sign-in accepted"
                } else {
                    ""
                }
            );
            println!(
                "give the provider the service provider's metadata at <public URL>{}?tenant={tenant}; people sign in at <public URL>/auth/saml/login?tenant={tenant}",
                super::saml_login::METADATA_PATH
            );
        }
        #[cfg(not(feature = "saml"))]
        SsoAction::Saml {
            action: SamlAction::Set { .. },
        } => anyhow::bail!(
            "this marcus was built without SAML: build it with --features saml (needs libxmlsec1-dev, libxml2-dev, libssl-dev, libclang-dev and pkg-config)"
        ),
        SsoAction::Saml {
            action: SamlAction::Unset { tenant },
        } => {
            served(storage, tenant).await?;
            bindings::update(storage, tenant, |b| b.saml = None).await?;
            let ended = super::sessions::end_all_in(storage, tenant, "saml").await?;
            println!("tenant {tenant} no longer signs in with SAML ({ended} sessions ended)");
        }
        SsoAction::Show => {
            let all = bindings::list(storage).await?;
            if all.iter().all(|b| b.oidc.is_none() && b.saml.is_none()) {
                println!("no tenant signs in with an identity provider (marcus sso oidc set)");
            }
            for b in all {
                if let Some(o) = &b.oidc {
                    println!(
                        "{:<24} oidc  issuer {}  client {} (secret set)  roles from {}: {}",
                        b.tenant, o.issuer, o.client_id, o.role_claim, o.role_map
                    );
                }
                if let Some(s) = &b.saml {
                    println!(
                        "{:<24} saml  idp {}  roles from {}: {}{}",
                        b.tenant,
                        s.idp_entity_id,
                        s.role_attribute,
                        s.role_map,
                        if s.allow_unsolicited {
                            "  (IdP-initiated allowed)"
                        } else {
                            ""
                        }
                    );
                }
            }
        }
    }
    Ok(())
}

/// A provider's metadata document from a URL or a file.
#[cfg(feature = "saml")]
async fn read_metadata(source: &str) -> anyhow::Result<String> {
    if source.starts_with("https://") || source.starts_with("http://") {
        let request = http::Request::get(source).body(Vec::new())?;
        let response = crate::auth::provider_http::exchange(request).await?;
        if !response.status().is_success() {
            anyhow::bail!("--idp-metadata {source} answered {}", response.status());
        }
        return Ok(String::from_utf8(response.into_body())?);
    }
    std::fs::read_to_string(source).map_err(|e| anyhow::anyhow!("--idp-metadata {source}: {e}"))
}

/// Refuses a tenant that is not served.
async fn served(storage: &dyn StorageBackend, tenant: &str) -> anyhow::Result<()> {
    marcus_identity::tenant::check_name(tenant).map_err(anyhow::Error::msg)?;
    let record = crate::tenants::registry::get(storage, tenant)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    marcus_identity::tenant::check_served(tenant, record.as_ref())
        .map_err(|why| anyhow::anyhow!("{why}; `marcus tenant list` shows the tenants"))
}
