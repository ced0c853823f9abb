//! SAML 2.0 service provider: metadata, login requests (HTTP-Redirect binding) and the
//! verification of the identity provider's responses (HTTP-POST binding).
//!
//! XML signatures are checked by `samael` (libxmlsec1), which also reduces the document to the
//! content the signature covers; every other decision (issuer, audience, recipient, validity
//! window, request binding, status) is made here, against the caller's clock, so that a rule
//! is never left to a library default.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode,
};
use samael::metadata::{
    EntityDescriptor, EntityDescriptorType, HTTP_POST_BINDING, HTTP_REDIRECT_BINDING,
    IndexedEndpoint, SpSsoDescriptor,
};
use samael::schema::{Assertion, AuthnRequest, Issuer, Response};
use samael::traits::ToXml;

const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const NAMEID_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";

/// Clock difference tolerated between this server and the identity provider.
const CLOCK_LEEWAY: Duration = Duration::from_secs(60);

/// Largest SAMLResponse form value accepted; a real response is a few kilobytes, and this
/// bounds the work an anonymous POST can cause.
const MAX_RESPONSE_B64_LEN: usize = 512 * 1024;

/// Signature algorithms accepted on responses: SHA-2 only, so a downgrade to SHA-1 is refused.
const ALLOWED_ALGORITHMS: &[AllowedSignatureAlgorithm] = &[
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// What this service provider is and which identity provider it trusts; everything the
/// SAML exchange needs, kept by the caller per organisation.
#[derive(Clone, Debug)]
pub struct SpSettings {
    /// This service provider's entity id: the audience the identity provider must name.
    pub entity_id: String,
    /// Assertion consumer service URL (HTTP-POST): the only recipient accepted in responses.
    pub acs_url: String,
    /// The identity provider's metadata XML, source of its entity id, SSO endpoint and
    /// signing certificates.
    pub idp_metadata_xml: String,
    /// Whether identity-provider-initiated logins (responses to no request) are accepted.
    pub allow_unsolicited: bool,
}

/// Where to send the browser to log in, and the request id to remember for the response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginRedirect {
    /// The identity provider's SSO URL carrying the deflated, encoded AuthnRequest and RelayState.
    pub url: String,
    /// The AuthnRequest's ID; the response must name it in InResponseTo.
    pub request_id: String,
}

/// An assertion whose signature and conditions all held; the only thing a login may be
/// built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The assertion's ID, for refusing a second use of the same assertion.
    pub assertion_id: String,
    /// The identity provider's entity id (equal to the one in its metadata).
    pub issuer: String,
    /// The subject's NameID as issued by the identity provider.
    pub name_id: String,
    /// Attributes by Name, values in document order.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// The instant after which this assertion is refused anyway (clock leeway included):
    /// how long its id must be remembered to refuse a replay.
    pub not_on_or_after: SystemTime,
    /// The identity provider's SessionIndex for this login, which a later single logout names.
    pub session_index: Option<String>,
}

/// Why settings or identity provider metadata cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SamlError {
    /// The identity provider metadata is not usable XML metadata for a SAML 2.0 IdP.
    IdpMetadata(String),
    /// The service provider settings are incomplete or inconsistent.
    Settings(String),
    /// An XML document could not be produced.
    Xml(String),
}

impl fmt::Display for SamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamlError::IdpMetadata(why) => {
                write!(f, "The identity provider metadata cannot be used: {why}.")
            }
            SamlError::Settings(why) => write!(f, "The SAML settings are not usable: {why}."),
            SamlError::Xml(why) => write!(f, "A SAML document could not be written: {why}."),
        }
    }
}

impl std::error::Error for SamlError {}

/// Why a SAML response was refused; each variant is one rule a response broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SamlRejected {
    /// Not base64, not XML, not a SAML Response, or missing a required element.
    Malformed(String),
    /// Neither the response nor its assertion carries a signature.
    Unsigned,
    /// A signature does not verify against the identity provider's certificates.
    BadSignature,
    /// The issuer is not the identity provider in the metadata.
    WrongIssuer,
    /// The assertion is not addressed to this service provider's entity id.
    WrongAudience,
    /// The response or its subject confirmation names another consumer URL.
    WrongRecipient,
    /// The assertion or its subject confirmation is past its validity window.
    Expired,
    /// The assertion's validity window has not started yet.
    NotYetValid,
    /// InResponseTo does not match the request this login started with.
    WrongRequest,
    /// The response answers no request and identity-provider-initiated login is off.
    Unsolicited,
    /// The identity provider reported a failure instead of a login (its status codes).
    Failed(String),
}

impl fmt::Display for SamlRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamlRejected::Malformed(why) => write!(f, "The SAML response is malformed: {why}."),
            SamlRejected::Unsigned => f.write_str("The SAML response is not signed."),
            SamlRejected::BadSignature => f.write_str(
                "The SAML response's signature does not verify against the identity provider's certificate.",
            ),
            SamlRejected::WrongIssuer => {
                f.write_str("The SAML response was issued by another identity provider.")
            }
            SamlRejected::WrongAudience => {
                f.write_str("The SAML assertion is meant for another service provider.")
            }
            SamlRejected::WrongRecipient => {
                f.write_str("The SAML response is addressed to another consumer URL.")
            }
            SamlRejected::Expired => f.write_str("The SAML assertion has expired."),
            SamlRejected::NotYetValid => f.write_str("The SAML assertion is not valid yet."),
            SamlRejected::WrongRequest => {
                f.write_str("The SAML response answers a different login request.")
            }
            SamlRejected::Unsolicited => f.write_str(
                "The SAML response answers no login request, and logins started at the identity provider are not allowed.",
            ),
            SamlRejected::Failed(status) => {
                write!(f, "The identity provider did not log the user in (status {status}).")
            }
        }
    }
}

impl std::error::Error for SamlRejected {}

/// The parts of the identity provider metadata this module relies on.
struct Idp {
    entity_id: String,
    sso_redirect_url: Option<String>,
    signing_certs: Vec<CertificateDer>,
}

/// Returns the service provider metadata XML to hand to the identity provider's administrator:
/// entity id, one HTTP-POST assertion consumer service, unsigned requests, signed assertions wanted.
pub fn sp_metadata(settings: &SpSettings) -> Result<String, SamlError> {
    check_sp_settings(settings)?;
    let descriptor = EntityDescriptor {
        entity_id: Some(settings.entity_id.clone()),
        sp_sso_descriptors: Some(vec![SpSsoDescriptor {
            protocol_support_enumeration: Some(NS_PROTOCOL.to_string()),
            authn_requests_signed: Some(false),
            want_assertions_signed: Some(true),
            name_id_formats: Some(vec![NAMEID_PERSISTENT.to_string()]),
            assertion_consumer_services: vec![IndexedEndpoint {
                binding: HTTP_POST_BINDING.to_string(),
                location: settings.acs_url.clone(),
                response_location: None,
                index: 0,
                is_default: Some(true),
            }],
            ..SpSsoDescriptor::default()
        }]),
        ..EntityDescriptor::default()
    };
    descriptor
        .to_string()
        .map_err(|e| SamlError::Xml(e.to_string()))
}

/// Returns the identity provider's entity id from its metadata, after checking that the
/// metadata names an SSO endpoint and a signing certificate (so a login could work).
pub fn idp_entity_id(idp_metadata_xml: &str) -> Result<String, SamlError> {
    let idp = parse_idp_metadata(idp_metadata_xml)?;
    if idp.sso_redirect_url.is_none() {
        return Err(SamlError::IdpMetadata(
            "it names no SingleSignOnService with the HTTP-Redirect binding".into(),
        ));
    }
    Ok(idp.entity_id)
}

/// Builds the AuthnRequest for one login and the URL (HTTP-Redirect binding) that carries it
/// to the identity provider's SSO endpoint; `relay_state` comes back unchanged with the response.
pub fn login_redirect(
    settings: &SpSettings,
    relay_state: &str,
) -> Result<LoginRedirect, SamlError> {
    check_sp_settings(settings)?;
    let idp = parse_idp_metadata(&settings.idp_metadata_xml)?;
    let sso_url = idp.sso_redirect_url.ok_or_else(|| {
        SamlError::IdpMetadata(
            "it names no SingleSignOnService with the HTTP-Redirect binding".into(),
        )
    })?;
    // An xs:ID must not start with a digit; 122 random bits make it unguessable.
    let request_id = format!("_{}", uuid::Uuid::new_v4().simple());
    let request = AuthnRequest {
        id: request_id.clone(),
        version: "2.0".to_string(),
        issue_instant: Utc::now(),
        destination: Some(sso_url),
        issuer: Some(Issuer {
            format: Some(NAMEID_ENTITY.to_string()),
            value: Some(settings.entity_id.clone()),
            ..Issuer::default()
        }),
        assertion_consumer_service_url: Some(settings.acs_url.clone()),
        protocol_binding: Some(HTTP_POST_BINDING.to_string()),
        ..AuthnRequest::default()
    };
    let url = request
        .redirect(relay_state)
        .map_err(|e| SamlError::Xml(e.to_string()))?
        .ok_or_else(|| SamlError::Xml("the request has no destination".into()))?;
    Ok(LoginRedirect {
        url: url.to_string(),
        request_id,
    })
}

/// Verifies a SAMLResponse form value (HTTP-POST binding) and returns the one assertion its
/// signature covers. `expected_request_id` is the id from [`login_redirect`] for this browser,
/// or `None` when no login was started here; `now` is the clock all validity windows are
/// checked against. Refusing a second use of the same assertion is left to the caller.
pub fn verify_response(
    settings: &SpSettings,
    saml_response_b64: &str,
    expected_request_id: Option<&str>,
    now: SystemTime,
) -> Result<VerifiedAssertion, SamlRejected> {
    // 1. Decode and look at the document before any XML-security processing.
    if saml_response_b64.len() > MAX_RESPONSE_B64_LEN {
        return Err(SamlRejected::Malformed("it is too large".into()));
    }
    let compact: Vec<u8> = saml_response_b64
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = BASE64
        .decode(&compact)
        .map_err(|_| SamlRejected::Malformed("it is not base64".into()))?;
    let xml = String::from_utf8(bytes)
        .map_err(|_| SamlRejected::Malformed("it is not UTF-8 text".into()))?;
    let outline = scan_received(&xml)?;

    // 2. A failure status ends the exchange; it is reported whether signed or not, since
    //    nothing is granted on it.
    match outline.status_codes.first() {
        None => return Err(SamlRejected::Malformed("it has no Status".into())),
        Some(code) if code != STATUS_SUCCESS => {
            let mut status = outline.status_codes.join(" / ");
            if let Some(message) = outline.status_message.filter(|m| !m.trim().is_empty()) {
                status.push_str(": ");
                status.push_str(message.trim());
            }
            return Err(SamlRejected::Failed(status));
        }
        Some(_) => {}
    }
    if outline.signatures == 0 {
        return Err(SamlRejected::Unsigned);
    }
    if outline.encrypted_assertions > 0 {
        return Err(SamlRejected::Malformed(
            "encrypted assertions are not supported".into(),
        ));
    }

    // 3. Verify every signature against the metadata's certificates and keep only signed content.
    let idp = parse_idp_metadata(&settings.idp_metadata_xml).map_err(|e| {
        let why = match e {
            SamlError::IdpMetadata(why) | SamlError::Settings(why) | SamlError::Xml(why) => why,
        };
        SamlRejected::Malformed(format!(
            "the identity provider metadata cannot be used: {why}"
        ))
    })?;
    quiet_xmlsec();
    let signed_xml = Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        &xml,
        &idp.signing_certs,
        ReduceMode::ValidateAndMarkNoAncestors,
        Some(ALLOWED_ALGORITHMS),
    )
    .map_err(|_| SamlRejected::BadSignature)?;
    let signed = scan_signed(&signed_xml)?;
    let (response, assertion) = if signed.root_is_response {
        let response: Response = signed_xml.parse().map_err(|e| {
            SamlRejected::Malformed(format!("the signed response does not parse ({e})"))
        })?;
        let assertion = response.assertion.clone().ok_or_else(|| {
            SamlRejected::Malformed("the signed response holds no assertion".into())
        })?;
        (Some(response), assertion)
    } else {
        let assertion: Assertion = signed_xml.parse().map_err(|e| {
            SamlRejected::Malformed(format!("the signed assertion does not parse ({e})"))
        })?;
        (None, assertion)
    };

    // 4. Rules on the signed content only.
    let now: DateTime<Utc> = now.into();
    let leeway = chrono::Duration::from_std(CLOCK_LEEWAY).expect("small duration");

    if let Some(response) = &response
        && let Some(issuer) = response.issuer.as_ref().and_then(|i| i.value.as_deref())
        && issuer.trim() != idp.entity_id
    {
        return Err(SamlRejected::WrongIssuer);
    }
    if assertion.version != "2.0" {
        return Err(SamlRejected::Malformed(
            "the assertion is not SAML 2.0".into(),
        ));
    }
    match assertion.issuer.value.as_deref() {
        Some(issuer) if issuer.trim() == idp.entity_id => {}
        _ => return Err(SamlRejected::WrongIssuer),
    }

    let conditions = assertion
        .conditions
        .as_ref()
        .ok_or_else(|| SamlRejected::Malformed("the assertion has no Conditions".into()))?;
    let restrictions = conditions.audience_restrictions.as_deref().unwrap_or(&[]);
    if restrictions.is_empty()
        || !restrictions
            .iter()
            .all(|r| r.audience.iter().any(|a| a.trim() == settings.entity_id))
    {
        return Err(SamlRejected::WrongAudience);
    }

    if let Some(response) = &response
        && let Some(destination) = response.destination.as_deref()
        && destination != settings.acs_url
    {
        return Err(SamlRejected::WrongRecipient);
    }

    if assertion.issue_instant > now + leeway {
        return Err(SamlRejected::NotYetValid);
    }
    if let Some(not_before) = conditions.not_before
        && now + leeway < not_before
    {
        return Err(SamlRejected::NotYetValid);
    }
    if let Some(not_on_or_after) = conditions.not_on_or_after
        && now >= not_on_or_after + leeway
    {
        return Err(SamlRejected::Expired);
    }

    let subject = assertion
        .subject
        .as_ref()
        .ok_or_else(|| SamlRejected::Malformed("the assertion has no Subject".into()))?;
    let name_id = subject
        .name_id
        .as_ref()
        .map(|n| n.value.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| SamlRejected::Malformed("the assertion has no NameID".into()))?;

    // The bearer confirmation: the first one that satisfies every rule is used; if none
    // does, the first broken rule is reported.
    let mut first_error = None;
    let mut confirmed = None;
    for confirmation in subject.subject_confirmations.iter().flatten() {
        if confirmation.method.as_deref() != Some(BEARER) {
            continue;
        }
        let Some(data) = confirmation.subject_confirmation_data.as_ref() else {
            first_error.get_or_insert(SamlRejected::Malformed(
                "the bearer confirmation has no SubjectConfirmationData".into(),
            ));
            continue;
        };
        if data.recipient.as_deref() != Some(settings.acs_url.as_str()) {
            first_error.get_or_insert(SamlRejected::WrongRecipient);
            continue;
        }
        let Some(not_on_or_after) = data.not_on_or_after else {
            first_error.get_or_insert(SamlRejected::Malformed(
                "the bearer confirmation has no NotOnOrAfter".into(),
            ));
            continue;
        };
        if now >= not_on_or_after + leeway {
            first_error.get_or_insert(SamlRejected::Expired);
            continue;
        }
        if let Some(not_before) = data.not_before
            && now + leeway < not_before
        {
            first_error.get_or_insert(SamlRejected::NotYetValid);
            continue;
        }
        confirmed = Some((data.in_response_to.clone(), not_on_or_after));
        break;
    }
    let (confirmation_in_response_to, confirmation_deadline) = match confirmed {
        Some(found) => found,
        None => {
            return Err(first_error.unwrap_or_else(|| {
                SamlRejected::Malformed("the assertion has no bearer SubjectConfirmation".into())
            }));
        }
    };

    // The request binding, from signed values only.
    let mut in_response_to: Vec<&str> = Vec::new();
    if let Some(id) = confirmation_in_response_to.as_deref() {
        in_response_to.push(id);
    }
    if let Some(id) = response.as_ref().and_then(|r| r.in_response_to.as_deref()) {
        in_response_to.push(id);
    }
    match expected_request_id {
        Some(expected) => {
            if in_response_to.is_empty() || in_response_to.iter().any(|id| *id != expected) {
                return Err(SamlRejected::WrongRequest);
            }
        }
        None => {
            if !in_response_to.is_empty() {
                return Err(SamlRejected::WrongRequest);
            }
            if !settings.allow_unsolicited {
                return Err(SamlRejected::Unsolicited);
            }
        }
    }

    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for statement in assertion.attribute_statements.iter().flatten() {
        for attribute in &statement.attributes {
            let Some(name) = attribute.name.as_deref() else {
                continue;
            };
            let values = attributes.entry(name.to_string()).or_default();
            values.extend(attribute.values.iter().filter_map(|v| v.value.clone()));
        }
    }
    let session_index = assertion
        .authn_statements
        .iter()
        .flatten()
        .find_map(|s| s.session_index.clone());

    let deadline = match conditions.not_on_or_after {
        Some(c) if c < confirmation_deadline => c,
        _ => confirmation_deadline,
    } + leeway;

    Ok(VerifiedAssertion {
        assertion_id: assertion.id.clone(),
        issuer: idp.entity_id,
        name_id,
        attributes,
        not_on_or_after: deadline.into(),
        session_index,
    })
}

/// Stops libxmlsec1 from printing a line to stderr for every signature that fails: a refused
/// response is reported through [`SamlRejected`], and anyone can post bad signatures.
fn quiet_xmlsec() {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        unsafe extern "C" {
            fn xmlSecErrorsDefaultCallbackEnableOutput(enabled: std::ffi::c_int);
        }
        // SAFETY: sets one int in libxmlsec1 (linked through samael) that its default error
        // callback reads; it takes no pointers and needs no initialisation.
        unsafe { xmlSecErrorsDefaultCallbackEnableOutput(0) };
    });
}

fn check_sp_settings(settings: &SpSettings) -> Result<(), SamlError> {
    if settings.entity_id.trim().is_empty() {
        return Err(SamlError::Settings(
            "the service provider entity id is empty".into(),
        ));
    }
    let acs = url::Url::parse(&settings.acs_url).map_err(|_| {
        SamlError::Settings("the assertion consumer service URL is not a URL".into())
    })?;
    if acs.scheme() != "https" && acs.scheme() != "http" {
        return Err(SamlError::Settings(
            "the assertion consumer service URL is not HTTP(S)".into(),
        ));
    }
    Ok(())
}

fn parse_idp_metadata(xml: &str) -> Result<Idp, SamlError> {
    reject_doctype(xml).map_err(SamlError::IdpMetadata)?;
    let parsed: EntityDescriptorType = xml
        .parse()
        .map_err(|e| SamlError::IdpMetadata(format!("it is not SAML metadata ({e})")))?;
    let idps: Vec<&EntityDescriptor> = parsed
        .iter()
        .filter(|e| {
            e.idp_sso_descriptors
                .as_ref()
                .is_some_and(|d| !d.is_empty())
        })
        .collect();
    let entity = match idps.as_slice() {
        [one] => *one,
        [] => {
            return Err(SamlError::IdpMetadata(
                "it describes no identity provider".into(),
            ));
        }
        _ => {
            return Err(SamlError::IdpMetadata(
                "it describes more than one identity provider".into(),
            ));
        }
    };
    let entity_id = entity
        .entity_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| SamlError::IdpMetadata("it has no entityID".into()))?
        .to_string();
    let descriptors = entity.idp_sso_descriptors.as_deref().unwrap_or(&[]);
    let sso_redirect_url = descriptors
        .iter()
        .flat_map(|d| d.single_sign_on_services.iter())
        .find(|s| s.binding == HTTP_REDIRECT_BINDING)
        .map(|s| s.location.trim().to_string());
    let mut signing_certs = Vec::new();
    for descriptor in descriptors {
        for key in &descriptor.key_descriptors {
            let usable = matches!(key.key_use.as_deref(), None | Some("") | Some("signing"));
            if !usable {
                continue;
            }
            for cert in key
                .key_info
                .x509_data
                .iter()
                .flat_map(|d| d.certificates.iter())
            {
                let der = samael::crypto::decode_x509_cert(cert).map_err(|_| {
                    SamlError::IdpMetadata("a signing certificate is not base64".into())
                })?;
                if !signing_certs.contains(&der) {
                    signing_certs.push(der);
                }
            }
        }
    }
    if signing_certs.is_empty() {
        return Err(SamlError::IdpMetadata(
            "it names no signing certificate".into(),
        ));
    }
    Ok(Idp {
        entity_id,
        sso_redirect_url,
        signing_certs,
    })
}

fn reject_doctype(xml: &str) -> Result<(), String> {
    let mut reader = NsReader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(Event::DocType(_)) => return Err("a DOCTYPE is not allowed".into()),
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(format!("it is not well-formed XML ({e})")),
        }
    }
}

/// What the received (untrusted) document looks like.
struct Outline {
    signatures: usize,
    encrypted_assertions: usize,
    status_codes: Vec<String>,
    status_message: Option<String>,
}

fn is(ns: &ResolveResult<'_>, local: &[u8], want_ns: &str, want_local: &str) -> bool {
    matches!(ns, ResolveResult::Bound(bound) if bound.as_ref() == want_ns.as_bytes())
        && local == want_local.as_bytes()
}

fn attr_value(start: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Reads the received document once: it must be well-formed, without DOCTYPE, with a
/// samlp:Response root; collects the signature count and the top-level status.
fn scan_received(xml: &str) -> Result<Outline, SamlRejected> {
    let mut reader = NsReader::from_str(xml);
    let mut outline = Outline {
        signatures: 0,
        encrypted_assertions: 0,
        status_codes: Vec::new(),
        status_message: None,
    };
    // Element path as (is Status, is StatusMessage) from the root down.
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut status_depth: Option<usize> = None;
    let mut in_message = false;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| SamlRejected::Malformed(format!("it is not well-formed XML ({e})")))?;
        match event {
            Event::DocType(_) => {
                return Err(SamlRejected::Malformed("a DOCTYPE is not allowed".into()));
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                let is_empty = matches!(event, Event::Empty(_));
                let local = start.local_name();
                let local = local.as_ref();
                if !root_seen {
                    if !is(&ns, local, NS_PROTOCOL, "Response") {
                        return Err(SamlRejected::Malformed(
                            "its root is not a samlp:Response".into(),
                        ));
                    }
                    root_seen = true;
                }
                if is(&ns, local, NS_DSIG, "Signature") {
                    outline.signatures += 1;
                }
                if is(&ns, local, NS_ASSERTION, "EncryptedAssertion") {
                    outline.encrypted_assertions += 1;
                }
                // The Response's own Status is a direct child of the root (depth 1).
                if depth == 1 && is(&ns, local, NS_PROTOCOL, "Status") && !is_empty {
                    status_depth = Some(depth);
                }
                if let Some(sd) = status_depth {
                    if depth > sd
                        && is(&ns, local, NS_PROTOCOL, "StatusCode")
                        && let Some(value) = attr_value(start, b"Value")
                    {
                        outline.status_codes.push(value);
                    }
                    if depth == sd + 1 && is(&ns, local, NS_PROTOCOL, "StatusMessage") && !is_empty
                    {
                        in_message = true;
                    }
                }
                if !is_empty {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if in_message {
                    in_message = false;
                }
                if status_depth == Some(depth) {
                    status_depth = None;
                }
            }
            Event::Text(ref text) if in_message => {
                let text = text
                    .decode()
                    .map_err(|_| SamlRejected::Malformed("a status message is not text".into()))?;
                outline
                    .status_message
                    .get_or_insert_with(String::new)
                    .push_str(&text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(SamlRejected::Malformed("it has no root element".into()));
    }
    Ok(outline)
}

/// What the signature-reduced document looks like.
struct Signed {
    root_is_response: bool,
}

/// Checks the document that remains after removing unsigned content: one samlp:Response or
/// saml:Assertion root, exactly one saml:Assertion in all, directly under the Response if
/// the root is a Response, no look-alike elements in other namespaces, and no comments or
/// processing instructions (which canonicalisation ignores, so they could split a signed
/// value without breaking its signature).
fn scan_signed(xml: &str) -> Result<Signed, SamlRejected> {
    let mut reader = NsReader::from_str(xml);
    let mut depth = 0usize;
    let mut root_is_response = None;
    let mut assertions = 0usize;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| {
            SamlRejected::Malformed(format!("the signed content is not well-formed XML ({e})"))
        })?;
        match event {
            Event::DocType(_) | Event::Comment(_) | Event::PI(_) => {
                return Err(SamlRejected::Malformed(
                    "the signed content holds a comment, DOCTYPE or processing instruction".into(),
                ));
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                let local = start.local_name();
                let local = local.as_ref();
                if root_is_response.is_none() {
                    if is(&ns, local, NS_PROTOCOL, "Response") {
                        root_is_response = Some(true);
                    } else if is(&ns, local, NS_ASSERTION, "Assertion") {
                        root_is_response = Some(false);
                    } else {
                        return Err(SamlRejected::Malformed(
                            "the signed content is neither a Response nor an Assertion".into(),
                        ));
                    }
                }
                if local == b"Assertion" || local == b"EncryptedAssertion" || local == b"Response" {
                    let expected = if local == b"Response" {
                        NS_PROTOCOL
                    } else {
                        NS_ASSERTION
                    };
                    let local_str = std::str::from_utf8(local).unwrap_or("");
                    if !is(&ns, local, expected, local_str) {
                        return Err(SamlRejected::Malformed(format!(
                            "the signed content holds a {local_str} element outside its SAML namespace"
                        )));
                    }
                }
                if local == b"EncryptedAssertion" {
                    return Err(SamlRejected::Malformed(
                        "encrypted assertions are not supported".into(),
                    ));
                }
                if local == b"Response" && depth > 0 {
                    return Err(SamlRejected::Malformed(
                        "the signed content nests a Response".into(),
                    ));
                }
                if local == b"Assertion" {
                    assertions += 1;
                    let allowed_depth = if root_is_response == Some(true) { 1 } else { 0 };
                    if depth != allowed_depth {
                        return Err(SamlRejected::Malformed(
                            "the signed assertion is not where a Response holds it".into(),
                        ));
                    }
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => break,
            _ => {}
        }
    }
    match (root_is_response, assertions) {
        (Some(root_is_response), 1) => Ok(Signed { root_is_response }),
        (None, _) => Err(SamlRejected::Malformed(
            "the signed content is empty".into(),
        )),
        (_, 0) => Err(SamlRejected::Malformed("no assertion is signed".into())),
        _ => Err(SamlRejected::Malformed(
            "more than one assertion is signed".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    //! A response recorded from a real SimpleSAMLphp IdP (tests/saml/start-idp.sh, user alice),
    //! verified at the instant it was recorded; the live IdP tests cover the login itself.
    use super::*;
    use std::io::Read;

    const IDP_METADATA: &str = include_str!("testdata/saml/idp-metadata.xml");
    const OTHER_IDP_METADATA: &str = include_str!("testdata/saml/other-idp-metadata.xml");
    const RESPONSE: &str = include_str!("testdata/saml/response-alice.b64");
    const REQUEST_ID: &str = include_str!("testdata/saml/response-alice.request-id");
    const VERIFIED_AT: &str = include_str!("testdata/saml/response-alice.verified-at");

    fn settings() -> SpSettings {
        SpSettings {
            entity_id: "https://marcus.test/sso/saml/metadata".into(),
            acs_url: "http://127.0.0.1:9/sso/saml/acs".into(),
            idp_metadata_xml: IDP_METADATA.into(),
            allow_unsolicited: false,
        }
    }

    fn at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(VERIFIED_AT.trim().parse().unwrap())
    }

    fn xml() -> String {
        String::from_utf8(BASE64.decode(RESPONSE.trim()).unwrap()).unwrap()
    }

    fn verify_xml(
        s: &SpSettings,
        xml: &str,
        request: Option<&str>,
        now: SystemTime,
    ) -> Result<VerifiedAssertion, SamlRejected> {
        verify_response(s, &BASE64.encode(xml), request, now)
    }

    #[test]
    fn recorded_response_verifies_with_its_attributes() {
        let a = verify_response(&settings(), RESPONSE, Some(REQUEST_ID.trim()), at()).unwrap();
        assert_eq!(a.attributes["groups"], vec!["acme:admin"]);
        assert_eq!(a.attributes["email"], vec!["alice@example.test"]);
        assert_eq!(a.issuer, idp_entity_id(IDP_METADATA).unwrap());
        assert!(a.assertion_id.starts_with('_'));
        assert!(a.not_on_or_after > at());
        assert!(a.session_index.is_some());
    }

    #[test]
    fn each_rule_refuses() {
        let s = settings();
        let id = Some(REQUEST_ID.trim());
        let hour = Duration::from_secs(3600);
        let forged = xml().replace(">acme:admin<", ">acme:root<");
        assert_eq!(
            verify_xml(&s, &forged, id, at()),
            Err(SamlRejected::BadSignature)
        );
        let other = SpSettings {
            idp_metadata_xml: OTHER_IDP_METADATA.into(),
            ..settings()
        };
        assert_eq!(
            verify_response(&other, RESPONSE, id, at()),
            Err(SamlRejected::BadSignature)
        );
        let audience = SpSettings {
            entity_id: "https://other.test".into(),
            ..settings()
        };
        assert_eq!(
            verify_response(&audience, RESPONSE, id, at()),
            Err(SamlRejected::WrongAudience)
        );
        let acs = SpSettings {
            acs_url: "https://other.test/acs".into(),
            ..settings()
        };
        assert_eq!(
            verify_response(&acs, RESPONSE, id, at()),
            Err(SamlRejected::WrongRecipient)
        );
        assert_eq!(
            verify_response(&s, RESPONSE, id, at() + hour),
            Err(SamlRejected::Expired)
        );
        assert_eq!(
            verify_response(&s, RESPONSE, id, at() - hour),
            Err(SamlRejected::NotYetValid)
        );
        assert_eq!(
            verify_response(&s, RESPONSE, Some("_other"), at()),
            Err(SamlRejected::WrongRequest)
        );
        assert_eq!(
            verify_response(&s, RESPONSE, None, at()),
            Err(SamlRejected::WrongRequest)
        );
        let mut unsigned = xml();
        while let Some(start) = unsigned.find("<ds:Signature ") {
            let end = unsigned[start..].find("</ds:Signature>").unwrap()
                + start
                + "</ds:Signature>".len();
            unsigned.replace_range(start..end, "");
        }
        assert_eq!(
            verify_xml(&s, &unsigned, id, at()),
            Err(SamlRejected::Unsigned)
        );
        let failed = xml().replace(
            "urn:oasis:names:tc:SAML:2.0:status:Success",
            "urn:oasis:names:tc:SAML:2.0:status:Requester",
        );
        assert!(matches!(
            verify_xml(&s, &failed, id, at()),
            Err(SamlRejected::Failed(_))
        ));
        assert!(matches!(
            verify_response(&s, "not base64!", id, at()),
            Err(SamlRejected::Malformed(_))
        ));
    }

    #[test]
    fn signed_content_with_a_comment_or_two_assertions_is_refused() {
        let one = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Issuer>x</saml:Issuer></saml:Assertion>"#;
        assert!(scan_signed(one).is_ok());
        let comment = one.replace(">x<", ">x<!---->y<");
        assert!(scan_signed(&comment).is_err());
        let response = |inner: &str| {
            format!(
                r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">{inner}</samlp:Response>"#
            )
        };
        assert!(scan_signed(&response(one)).is_ok());
        assert!(scan_signed(&response(&format!("{one}{one}"))).is_err());
        let nested = format!(r#"<samlp:Extensions>{one}</samlp:Extensions>"#);
        assert!(scan_signed(&response(&nested)).is_err());
        let foreign = r#"<evil:Assertion xmlns:evil="urn:evil"/>"#;
        assert!(scan_signed(&response(&format!("{one}{foreign}"))).is_err());
    }

    #[test]
    fn metadata_and_login_redirect() {
        let s = settings();
        let md = sp_metadata(&s).unwrap();
        for needle in [
            "entityID=\"https://marcus.test/sso/saml/metadata\"",
            "SPSSODescriptor",
            "AuthnRequestsSigned=\"false\"",
            "WantAssertionsSigned=\"true\"",
            "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
            "Location=\"http://127.0.0.1:9/sso/saml/acs\"",
        ] {
            assert!(md.contains(needle), "{needle} missing from {md}");
        }
        assert!(idp_entity_id("<x/>").is_err());
        assert!(idp_entity_id("<!DOCTYPE x><x/>").is_err());

        let redirect = login_redirect(&s, "back/to?here").unwrap();
        let url = url::Url::parse(&redirect.url).unwrap();
        assert!(
            redirect.url.starts_with(
                &idp_entity_id(IDP_METADATA)
                    .unwrap()
                    .replace("metadata.php", "SSOService.php")
            )
        );
        let query: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(query["RelayState"], "back/to?here");
        let deflated = BASE64.decode(&query["SAMLRequest"]).unwrap();
        let mut request = String::new();
        flate2::read::DeflateDecoder::new(&deflated[..])
            .read_to_string(&mut request)
            .unwrap();
        assert!(
            request.contains(&format!("ID=\"{}\"", redirect.request_id)),
            "{request}"
        );
        assert!(
            request.contains("AssertionConsumerServiceURL=\"http://127.0.0.1:9/sso/saml/acs\"")
        );
        assert!(request.contains(">https://marcus.test/sso/saml/metadata<"));
        assert_ne!(
            login_redirect(&s, "").unwrap().request_id,
            redirect.request_id
        );
    }
}
