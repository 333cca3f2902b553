//! The client's address behind proxies: taken from `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`, but only as far as the hops are trusted.
//!
//! Each proxy appends the address it received the request from, so the list reads
//! client, proxy 1, proxy 2... and only its right end can be believed: the client
//! writes whatever it likes on the left. The client's address is therefore the
//! rightmost hop that is not a trusted proxy, and headers are ignored altogether
//! when the TCP peer itself is not a trusted proxy.

use std::net::{IpAddr, SocketAddr};

use hyper::HeaderMap;
use ipnet::IpNet;

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedProxies(Vec<IpNet>);

/// A proxy address or network that is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadProxy(pub String);

impl std::fmt::Display for BadProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` is neither an IP address nor a CIDR network (such as 10.0.0.0/8)", self.0)
    }
}

impl std::error::Error for BadProxy {}

impl TrustedProxies {
    /// Parses addresses (`10.1.2.3`, `::1`) and networks (`10.0.0.0/8`).
    pub(crate) fn parse<I, S>(proxies: I) -> Result<Self, BadProxy>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        proxies
            .into_iter()
            .map(|p| {
                let p = p.as_ref().trim();
                p.parse::<IpNet>().or_else(|_| p.parse::<IpAddr>().map(IpNet::from)).map_err(|_| BadProxy(p.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request that arrived from `peer`.
    pub(crate) fn client_addr(&self, headers: &HeaderMap, peer: SocketAddr) -> SocketAddr {
        if !self.trusts(peer.ip()) {
            return peer;
        }
        let hops = hops(headers);
        // Right to left: the first hop that is not a trusted proxy is the client. When
        // every hop is trusted, the leftmost is as far as the chain goes.
        hops.iter().rev().find(|a| !self.trusts(a.ip())).or(hops.first()).copied().unwrap_or(peer)
    }
}

/// The hops a request passed, left (client) to right (nearest proxy): from `Forwarded`
/// if present, else from `X-Forwarded-For`. Unparsable entries (`unknown`, obfuscated
/// names) end the list where they stand, since nothing left of them can be placed.
fn hops(headers: &HeaderMap) -> Vec<SocketAddr> {
    let forwarded: Vec<&str> = headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()).collect();
    let entries: Vec<String> = if !forwarded.is_empty() {
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| v.trim().trim_matches('"').to_owned())
                })
            })
            .collect()
    } else {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .collect()
    };
    let mut out = Vec::new();
    for entry in entries.iter().rev() {
        match parse_hop(entry) {
            Some(addr) => out.push(addr),
            None => break,
        }
    }
    out.reverse();
    out
}

/// `1.2.3.4`, `1.2.3.4:80`, `[::1]`, `[::1]:80` or `::1`.
fn parse_hop(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>()
        .ok()
        .or_else(|| s.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn addr(s: &str) -> SocketAddr {
        parse_hop(s).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        let h = headers(&[("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(proxies.client_addr(&h, addr("203.0.113.9:5000")), addr("203.0.113.9:5000"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client_and_a_forged_left_end_is_ignored() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8", "192.0.2.7"]).unwrap();
        // The client forged 6.6.6.6; it really connected from 198.51.100.4 to the edge
        // proxy 192.0.2.7, which forwarded to the inner proxy 10.0.0.2.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.4, 192.0.2.7")]);
        assert_eq!(proxies.client_addr(&h, addr("10.0.0.2:1")).ip(), addr("198.51.100.4").ip());
        let h = headers(&[("forwarded", r#"for=6.6.6.6, for="198.51.100.4:443";proto=https, for=192.0.2.7"#)]);
        assert_eq!(proxies.client_addr(&h, addr("10.0.0.2:1")), addr("198.51.100.4:443"));
        let h = headers(&[("forwarded", r#"for="[2001:db8::1]:80""#)]);
        assert_eq!(proxies.client_addr(&h, addr("10.0.0.2:1")), addr("[2001:db8::1]:80"));
    }

    #[test]
    fn headers_split_over_lines_and_unknown_hops() {
        let proxies = TrustedProxies::parse(["127.0.0.1"]).unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.4")]);
        assert_eq!(proxies.client_addr(&h, addr("127.0.0.1:9")).ip(), addr("198.51.100.4").ip());
        let h = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(proxies.client_addr(&h, addr("127.0.0.1:9")), addr("127.0.0.1:9"), "nothing usable: the peer");
        let h = headers(&[("x-forwarded-for", "127.0.0.1")]);
        assert_eq!(proxies.client_addr(&h, addr("127.0.0.1:9")).ip(), addr("127.0.0.1").ip(), "all trusted: the leftmost");
    }

    #[test]
    fn bad_proxies_are_named() {
        assert_eq!(TrustedProxies::parse(["10.0.0.0/8", "proxy.local"]).unwrap_err(), BadProxy("proxy.local".into()));
    }
}
