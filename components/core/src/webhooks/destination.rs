//! Where webhook deliveries may go. A subscription is a request the server makes on a
//! stranger's behalf, so without a rule it is a way into the server's own networks: Redis on
//! loopback, a cloud metadata service on link-local, anything on a private range. Deliveries
//! only reach public addresses unless the operator's allow-list names the destination.
//!
//! One rule for everyone: the app applies it to literal addresses when a subscription is
//! created, the native host applies it to every address a name resolves to at delivery time
//! (and connects only to an address it checked).

use crate::api_error::ApiError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The capabilities fact through which a host tells the app its operator's allow-list.
pub const ALLOW_FACT: &str = "webhook-allow";

/// Why an address is not a public one, or `None` for an address deliveries may reach.
pub fn forbidden_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_broadcast() => "broadcast",
        (0, _, _) => "unspecified",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, b, _) if (16..32).contains(&b) => "private",
        (100, b, _) if (64..128).contains(&b) => "shared (carrier-grade NAT)",
        (169, 254, _) => "link-local",
        (192, 0, 0) => "reserved",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18 | 19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    Some(match s[0] {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        0xfc00..=0xfdff => "private (unique local)",
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "reserved (site-local)",
        0xff00..=0xffff => "multicast",
        0x2001 if s[1] == 0x0db8 => "documentation",
        0x3fff if s[1] <= 0x0fff => "documentation",
        0x0100 if s[1..4] == [0, 0, 0] => "reserved (discard)",
        0x0000 => "reserved",
        _ => return None,
    })
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`)
/// or NAT64 (`64:ff9b::a.b.c.d`) address: each reaches that IPv4 host.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s[..6] {
        [0, 0, 0, 0, 0, 0xffff] => Some(tail),
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0] if s[6] != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0] => Some(tail),
        _ => None,
    }
}

/// A URL's host as a delivery sees it: an address or a name (lower case, no trailing dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// An IP address literal.
    Ip(IpAddr),
    /// A DNS name.
    Name(String),
}

impl Host {
    /// Reads a host as written in a URL: `[v6]`, a dotted (or shortened, decimal, octal or
    /// hex, as resolvers accept them) IPv4 address, or a name.
    pub fn parse(host: &str) -> Self {
        if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
            && let Ok(v6) = inner.parse::<Ipv6Addr>()
        {
            return Self::Ip(IpAddr::V6(v6));
        }
        if let Ok(v6) = host.parse::<Ipv6Addr>() {
            return Self::Ip(IpAddr::V6(v6));
        }
        if let Some(v4) = loose_ipv4(host) {
            return Self::Ip(IpAddr::V4(v4));
        }
        Self::Name(host.trim_end_matches('.').to_ascii_lowercase())
    }
}

/// IPv4 in every form `inet_aton` (and so `getaddrinfo`) accepts: one to four parts, each
/// decimal, octal (leading 0) or hex (0x), the last filling the remaining bytes. `127.1`,
/// `2130706433` and `0x7f.0.0.1` all mean 127.0.0.1.
fn loose_ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for part in &parts {
        let (digits, radix) =
            if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
                (hex, 16)
            } else if part.len() > 1 && part.starts_with('0') {
                (&part[1..], 8)
            } else {
                (*part, 10)
            };
        if digits.is_empty() && radix != 16 {
            return None;
        }
        let value = if digits.is_empty() {
            0
        } else {
            u64::from_str_radix(digits, radix).ok()?
        };
        values.push(value);
    }
    let (last, leading) = values.split_last()?;
    if leading.iter().any(|v| *v > 255) {
        return None;
    }
    let last_bits = 8 * (4 - leading.len() as u32);
    if *last >= 1u64 << last_bits {
        return None;
    }
    let mut addr: u64 = 0;
    for (i, v) in leading.iter().enumerate() {
        addr |= v << (24 - 8 * i as u32);
    }
    Some(Ipv4Addr::from((addr | last) as u32))
}

/// Names that always mean this machine (RFC 6761), whatever a resolver says.
pub fn is_local_name(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// What one allow-list entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A host name; `*.example.org` takes every name under `example.org`.
    Name(String),
    /// An address range: base and prefix length (a plain address is a full-length range).
    Net(IpAddr, u8),
}

/// One entry: a target and, optionally, the only port it is allowed on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    target: Target,
    port: Option<u16>,
}

/// The operator's exceptions: destinations deliveries may reach although they are not
/// public (a receiver on loopback, a service on the private network).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<Entry>,
    /// The entries as written, for handing the list on.
    written: Vec<String>,
}

impl AllowList {
    /// Parses a comma-separated list of host names (`hooks.internal`, `*.corp.example`),
    /// addresses (`127.0.0.1`, `::1`) and ranges (`10.0.0.0/8`, `fd00::/8`), each optionally
    /// with `:port` (`127.0.0.1:8080`, `[::1]:9000`, `hooks.internal:443`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        let mut written = Vec::new();
        for raw in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            entries.push(parse_entry(raw).map_err(|why| format!("{raw:?}: {why}"))?);
            written.push(raw.to_string());
        }
        Ok(Self { entries, written })
    }

    /// The list in the form [`AllowList::parse`] reads (how the host tells the app).
    pub fn to_spec(&self) -> String {
        self.written.join(",")
    }

    /// No exceptions at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the operator named host name `name` (on `port`).
    pub fn allows_name(&self, name: &str, port: u16) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.entries.iter().any(|e| {
            e.port.is_none_or(|p| p == port)
                && match &e.target {
                    Target::Name(n) => match n.strip_prefix("*.") {
                        Some(domain) => name
                            .strip_suffix(domain)
                            .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
                        None => *n == name,
                    },
                    Target::Net(..) => false,
                }
        })
    }

    /// Whether the operator named address `ip` (on `port`), alone or in a range.
    pub fn allows_ip(&self, ip: IpAddr, port: u16) -> bool {
        self.entries.iter().any(|e| {
            e.port.is_none_or(|p| p == port)
                && matches!(e.target, Target::Net(base, bits) if in_range(ip, base, bits))
        })
    }
}

fn parse_entry(raw: &str) -> Result<Entry, String> {
    let (host, port) = split_host_port(raw)?;
    let port = port
        .map(|p| {
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("port {p:?} is not 1-65535"))
        })
        .transpose()?;
    let target = match host.split_once('/') {
        Some((addr, bits)) => {
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("{addr:?} is not an IP address"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits: u8 = bits
                .parse()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("prefix length {bits:?} is not 0-{max}"))?;
            Target::Net(addr, bits)
        }
        None => match Host::parse(host) {
            Host::Ip(ip) => Target::Net(ip, if ip.is_ipv4() { 32 } else { 128 }),
            Host::Name(name) => {
                let label = name.strip_prefix("*.").unwrap_or(&name);
                let valid = !label.is_empty()
                    && label.split('.').all(|l| {
                        !l.is_empty()
                            && l.len() <= 63
                            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    });
                if !valid {
                    return Err("not a host name, address or range".into());
                }
                Target::Name(name)
            }
        },
    };
    Ok(Entry { target, port })
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address or range.
fn split_host_port(raw: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = raw.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or("unclosed [")?;
        return match after {
            "" => Ok((inside, None)),
            _ => match after.strip_prefix(':') {
                Some(p) => Ok((inside, Some(p))),
                None => Err("text after ]".into()),
            },
        };
    }
    if raw.matches(':').count() > 1 {
        return Ok((raw, None));
    }
    Ok(match raw.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (raw, None),
    })
}

fn in_range(ip: IpAddr, base: IpAddr, bits: u8) -> bool {
    let (ip, base, width) = match (ip, base) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        (IpAddr::V6(a), IpAddr::V4(b)) => match embedded_v4(a) {
            Some(a) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
            None => return false,
        },
        (IpAddr::V4(_), IpAddr::V6(_)) => return false,
    };
    if bits == 0 {
        return true;
    }
    let shift = width - u32::from(bits);
    (ip >> shift) == (base >> shift)
}

/// Why a delivery to `ip` on `port` is refused, or `None` when it may go there: a public
/// address, or one the allow-list names (`name`, when given, is the URL's host name: an
/// allowed name takes every address it resolves to).
pub fn refusal(ip: IpAddr, port: u16, name: Option<&str>, allow: &AllowList) -> Option<String> {
    if name.is_some_and(|n| allow.allows_name(n, port)) || allow.allows_ip(ip, port) {
        return None;
    }
    forbidden_range(ip).map(|range| format!("{ip} is a {range} address"))
}

/// The creation-time check of a receiver URL's host and port (taken from an already
/// well-formed URL): a literal non-public address, or a name that always means this
/// machine, is refused unless the allow-list names it. Other names are checked when each
/// delivery resolves them.
pub fn check_url_host(url: &str, allow: &AllowList) -> Result<(), ApiError> {
    let (https, rest) = match url.strip_prefix("https://") {
        Some(r) => (true, r),
        None => (false, url.strip_prefix("http://").unwrap_or(url)),
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p.parse::<u16>().ok()),
        _ => (authority, None),
    };
    let port = port.unwrap_or(if https { 443 } else { 80 });
    let refused = |what: String| {
        Err(ApiError::new(
            400,
            "destination_not_allowed",
            format!(
                "url {url:?} points at {what}; webhooks may not reach loopback, link-local or \
                 private networks unless the operator allows the destination \
                 (--webhook-allow / MARCUS_WEBHOOK_ALLOW)"
            ),
        ))
    };
    match Host::parse(host) {
        Host::Ip(ip) => match refusal(ip, port, None, allow) {
            Some(why) => refused(why),
            None => Ok(()),
        },
        Host::Name(name) if is_local_name(&name) && !allow.allows_name(&name, port) => {
            refused(format!("{name}, this machine"))
        }
        Host::Name(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_private_link_local_and_special_ranges_are_not_public() {
        for (addr, range) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("100.127.255.255", "shared (carrier-grade NAT)"),
            ("169.254.169.254", "link-local"),
            ("192.0.2.10", "documentation"),
            ("198.51.100.1", "documentation"),
            ("203.0.113.7", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("255.255.255.255", "broadcast"),
            ("240.0.0.1", "reserved"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fc00::1", "private (unique local)"),
            ("fd12:3456::1", "private (unique local)"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::ffff:10.0.0.1", "private"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::a00:1", "private"),
        ] {
            assert_eq!(forbidden_range(ip(addr)), Some(range), "{addr}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "100.63.255.255",
            "169.253.0.1",
            "192.0.3.1",
            "11.0.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(forbidden_range(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn hosts_parse_in_every_form_a_resolver_accepts() {
        let v4 = |s: &str| Host::Ip(ip(s));
        assert_eq!(Host::parse("127.0.0.1"), v4("127.0.0.1"));
        assert_eq!(Host::parse("127.1"), v4("127.0.0.1"));
        assert_eq!(Host::parse("2130706433"), v4("127.0.0.1"));
        assert_eq!(Host::parse("0x7f.0.0.1"), v4("127.0.0.1"));
        assert_eq!(Host::parse("0177.0.0.01"), v4("127.0.0.1"));
        assert_eq!(Host::parse("169.254.43518"), v4("169.254.169.254"));
        assert_eq!(Host::parse("[::1]"), Host::Ip(ip("::1")));
        assert_eq!(
            Host::parse("[::ffff:7f00:1]"),
            Host::Ip(ip("::ffff:127.0.0.1"))
        );
        assert_eq!(
            Host::parse("Hooks.Example.COM."),
            Host::Name("hooks.example.com".into())
        );
        assert_eq!(Host::parse("256.0.0.1"), Host::Name("256.0.0.1".into()));
        assert_eq!(Host::parse("1.2.3.4.5"), Host::Name("1.2.3.4.5".into()));
        assert_eq!(Host::parse("08.0.0.1"), Host::Name("08.0.0.1".into()));
        assert!(is_local_name("localhost") && is_local_name("api.localhost"));
        assert!(!is_local_name("localhost.example"));
    }

    #[test]
    fn the_allow_list_names_hosts_addresses_ranges_and_ports() {
        let allow = AllowList::parse(
            "127.0.0.1:8080, 10.0.0.0/8, hooks.internal, *.corp.example:443, [::1]:9000, fd00::/8",
        )
        .unwrap();
        assert!(allow.allows_ip(ip("127.0.0.1"), 8080));
        assert!(!allow.allows_ip(ip("127.0.0.1"), 6379), "another port");
        assert!(!allow.allows_ip(ip("127.0.0.2"), 8080));
        assert!(allow.allows_ip(ip("10.200.0.1"), 22));
        assert!(allow.allows_ip(ip("::ffff:10.0.0.1"), 80), "mapped form");
        assert!(!allow.allows_ip(ip("11.0.0.1"), 80));
        assert!(allow.allows_ip(ip("::1"), 9000));
        assert!(!allow.allows_ip(ip("::1"), 9001));
        assert!(allow.allows_ip(ip("fd00::5"), 1));
        assert!(allow.allows_name("HOOKS.internal.", 80));
        assert!(!allow.allows_name("evil-hooks.internal", 80));
        assert!(allow.allows_name("a.b.corp.example", 443));
        assert!(
            !allow.allows_name("corp.example", 443),
            "only names under it"
        );
        assert!(!allow.allows_name("xcorp.example", 443));
        assert!(!allow.allows_name("a.corp.example", 80));
        assert!(AllowList::parse("").unwrap().is_empty());
        assert_eq!(AllowList::parse(&allow.to_spec()).unwrap(), allow);
        for bad in [
            "10.0.0.0/33",
            "host:0",
            "host:99999",
            "[::1",
            "a b",
            "::1/129",
        ] {
            assert!(AllowList::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refusals_name_the_range_unless_the_operator_allows_it() {
        let none = AllowList::default();
        let why = refusal(ip("127.0.0.1"), 6379, None, &none).unwrap();
        assert!(why.contains("loopback"), "{why}");
        assert_eq!(refusal(ip("8.8.8.8"), 443, None, &none), None);
        let allow = AllowList::parse("127.0.0.1, receiver.test:8443").unwrap();
        assert_eq!(refusal(ip("127.0.0.1"), 6379, None, &allow), None);
        assert_eq!(
            refusal(ip("10.0.0.7"), 8443, Some("receiver.test"), &allow),
            None,
            "an allowed name takes the addresses it resolves to"
        );
        assert!(refusal(ip("10.0.0.7"), 8443, Some("other.test"), &allow).is_some());
    }

    #[test]
    fn subscriptions_to_literal_private_addresses_or_localhost_are_refused() {
        let none = AllowList::default();
        for url in [
            "http://127.0.0.1:6379/",
            "http://[::1]/h",
            "http://169.254.169.254/latest/meta-data",
            "https://10.0.0.1/h",
            "http://2130706433/h",
            "http://localhost:8080/h",
            "http://LOCALHOST./h",
            "http://[::ffff:127.0.0.1]:80/",
        ] {
            let e = check_url_host(url, &none).unwrap_err();
            assert_eq!(
                (e.status, e.code),
                (400, "destination_not_allowed"),
                "{url}"
            );
            assert!(e.message.contains("MARCUS_WEBHOOK_ALLOW"), "{}", e.message);
        }
        assert!(check_url_host("https://hooks.example.com/h", &none).is_ok());
        assert!(check_url_host("http://8.8.8.8:8080/h", &none).is_ok());
        let allow = AllowList::parse("127.0.0.1:9000,localhost").unwrap();
        assert!(check_url_host("http://127.0.0.1:9000/h", &allow).is_ok());
        assert!(check_url_host("http://127.0.0.1:6379/", &allow).is_err());
        assert!(check_url_host("http://localhost:1234/h", &allow).is_ok());
    }
}
