//! The client's real address behind reverse proxies.
//!
//! `X-Forwarded-For` and `Forwarded` can be written by anyone, so they are believed only from
//! the proxies the operator names (`--trusted-proxies`, CIDRs). The hops are read from the
//! right (the nearest first): the first one that is not a trusted proxy is the client. Without
//! trusted proxies, or from any other peer, the client is the connection's own address.
//! Everything that keys on the client (sign-in and sign-up throttles, connection caps, logs)
//! uses this address.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use ipnet::IpNet;

use crate::error::AppError;

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// From CIDRs (`10.0.0.0/8`) or single addresses (`10.0.0.5`).
    pub fn parse(entries: &[String]) -> anyhow::Result<Self> {
        entries
            .iter()
            .map(|entry| entry.trim())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map_err(|_| anyhow::anyhow!("--trusted-proxies: `{entry}` is not an address or CIDR"))
            })
            .collect::<anyhow::Result<_>>()
            .map(Self)
    }

    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|proxy| proxy.contains(&address))
    }

    /// The client behind `peer` (the connection's address), from the forwarding headers when
    /// `peer` is a trusted proxy. `Forwarded` (RFC 7239) is preferred to `X-Forwarded-For`.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_hops(headers).or_else(|| x_forwarded_for_hops(headers)).unwrap_or_default();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop that is not an address (`unknown`, an obfuscated name, garbage) ends the
            // chain: the last address known is as far as can be told.
            let Some(address) = hop else { break };
            client = address.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// Each `for=` of the `Forwarded` headers, in order; `None` for one that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    for value in headers.get_all(header::FORWARDED) {
        let value = value.to_str().ok()?;
        for element in value.split(',') {
            let node = element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"'))
            });
            if let Some(node) = node {
                hops.push(parse_node(node));
            }
        }
    }
    (!hops.is_empty()).then_some(hops)
}

fn x_forwarded_for_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        hops.extend(value.to_str().ok()?.split(',').map(|hop| parse_node(hop.trim())));
    }
    (!hops.is_empty()).then_some(hops)
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(address) = IpAddr::from_str(node) {
        return Some(address);
    }
    if let Ok(address) = SocketAddr::from_str(node) {
        return Some(address.ip());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| IpAddr::from_str(inner).ok())
}

/// The request's client address (see the module documentation), set by the server for every
/// request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(address) = parts.extensions.get::<ClientAddress>() {
            return Ok(*address);
        }
        // Served by something other than `todokit::serve` (e.g. a test harness).
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| ClientAddress(peer.ip().to_canonical()))
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no client address for the request")))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_are_believed_from_trusted_proxies_only() {
        let none = TrustedProxies::default();
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into(), "192.168.1.7".into()]).unwrap();
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(none.client_address(ip("10.0.0.2"), &spoofed), ip("10.0.0.2"));
        assert_eq!(proxies.client_address(ip("203.0.113.9"), &spoofed), ip("203.0.113.9"), "not a proxy");
        assert_eq!(proxies.client_address(ip("10.0.0.2"), &spoofed), ip("1.2.3.4"));
        // The rightmost hop that is not a proxy: what the client wrote itself is ignored.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.4, 192.168.1.7")]);
        assert_eq!(proxies.client_address(ip("10.0.0.2"), &chain), ip("198.51.100.4"));
        let split = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.4")]);
        assert_eq!(proxies.client_address(ip("10.0.0.2"), &split), ip("198.51.100.4"));
        // Forwarded wins over X-Forwarded-For; ports, quotes, brackets and IPv6.
        let forwarded = headers(&[
            ("forwarded", r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https"#),
            ("x-forwarded-for", "5.5.5.5"),
        ]);
        assert_eq!(proxies.client_address(ip("10.0.0.2"), &forwarded), ip("2001:db8:cafe::17"));
        let with_port = headers(&[("forwarded", r#"For="198.51.100.4:80""#)]);
        assert_eq!(proxies.client_address(ip("10.0.0.2"), &with_port), ip("198.51.100.4"));
        // Not an address: as far as can be told, the last proxy.
        let unknown = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(proxies.client_address(ip("10.0.0.2"), &unknown), ip("10.0.0.2"));
        assert_eq!(proxies.client_address(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
        // An IPv4 peer seen through an IPv6 socket is still trusted.
        assert_eq!(proxies.client_address(ip("::ffff:10.0.0.2"), &spoofed), ip("1.2.3.4"));
        assert!(TrustedProxies::parse(&["not-a-cidr".into()]).is_err());
    }
}
