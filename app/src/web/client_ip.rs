//! The address of the client behind a request: the peer of the connection, or — when that
//! peer is one of the configured reverse proxies — the right-most address in the proxies'
//! forwarding header that is not itself a trusted proxy. Everything left of that entry was
//! written by the client and can be forged; a peer we do not trust can forge all of it, so
//! its header is never read.

use std::net::{IpAddr, SocketAddr};

use poem::Request;
use poem::http::HeaderMap;

use crate::config::{ForwardedHeader, ProxiesConfig};

/// The client's address, or `None` when the connection has none (not a TCP peer).
pub fn client_ip(req: &Request, proxies: &ProxiesConfig) -> Option<IpAddr> {
    let peer = req.remote_addr().as_socket_addr()?.ip().to_canonical();
    Some(resolve(peer, req.headers(), proxies))
}

/// `peer` itself unless it is a trusted proxy; then the hops of its header from the right,
/// until the first one that is not a trusted proxy. A hop that cannot be read (`unknown`,
/// an obfuscated name, garbage) ends the walk at the last proxy that could be trusted.
fn resolve(peer: IpAddr, headers: &HeaderMap, proxies: &ProxiesConfig) -> IpAddr {
    let mut client = peer;
    if !proxies.trusts(client) {
        return client;
    }
    let name = match proxies.header {
        ForwardedHeader::XForwardedFor => "x-forwarded-for",
        ForwardedHeader::Forwarded => "forwarded",
    };
    // Several header lines form one list, in order.
    let lines = headers.get_all(name).iter().rev();
    let hops = lines.flat_map(|line| line.to_str().unwrap_or_default().rsplit(','));
    for hop in hops {
        let hop = match proxies.header {
            ForwardedHeader::XForwardedFor => node(hop),
            ForwardedHeader::Forwarded => forwarded_for(hop).and_then(node),
        };
        let Some(ip) = hop else {
            break;
        };
        client = ip;
        if !proxies.trusts(ip) {
            break;
        }
    }
    client
}

/// The `for=` parameter of one RFC 7239 element (`for=192.0.2.60;proto=http;by=…`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim().eq_ignore_ascii_case("for").then_some(value)
    })
}

/// An address as proxies write it: `192.0.2.60`, `2001:db8::1`, with a port
/// (`192.0.2.60:4711`, `[2001:db8::1]:4711`), bracketed, or quoted.
fn node(value: &str) -> Option<IpAddr> {
    let value = value.trim().trim_matches('"');
    let ip = value
        .parse::<IpAddr>()
        .or_else(|_| value.parse::<SocketAddr>().map(|a| a.ip()))
        .or_else(|_| {
            let inner = value.strip_prefix('[').and_then(|v| v.strip_suffix(']'));
            inner.unwrap_or_default().parse::<IpAddr>()
        })
        .ok()?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use poem::http::HeaderValue;

    use super::*;

    fn proxies(trusted: &[&str], header: ForwardedHeader) -> ProxiesConfig {
        ProxiesConfig {
            trusted: trusted
                .iter()
                .map(|t| t.parse().unwrap_or_else(|_| ipnet::IpNet::from(ip(t))))
                .collect(),
            header,
        }
    }

    fn headers(name: &'static str, lines: &[&'static str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append(name, HeaderValue::from_static(line));
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const XFF: ForwardedHeader = ForwardedHeader::XForwardedFor;

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let forged = headers("x-forwarded-for", &["203.0.113.7"]);
        for config in [proxies(&[], XFF), proxies(&["10.0.0.0/8"], XFF)] {
            assert_eq!(resolve(ip("192.0.2.1"), &forged, &config), ip("192.0.2.1"));
        }
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let config = proxies(&["10.0.0.0/8"], XFF);
        let peer = ip("10.0.0.5");
        let cases: &[(&[&'static str], &str)] = &[
            (&["203.0.113.7"], "203.0.113.7"),
            // The client forged the left part; the proxy appended what it saw.
            (&["198.51.100.1, 203.0.113.7"], "203.0.113.7"),
            // A chain of our own proxies is walked through.
            (&["203.0.113.7, 10.1.2.3"], "203.0.113.7"),
            (&["198.51.100.1", "203.0.113.7, 10.1.2.3"], "203.0.113.7"),
            (&["2001:db8::7"], "2001:db8::7"),
            (&["[2001:db8::7]:4711"], "2001:db8::7"),
            (&["203.0.113.7:4711"], "203.0.113.7"),
            (&["::ffff:203.0.113.7"], "203.0.113.7"),
            // Garbage ends the walk at the last proxy we trust.
            (&["203.0.113.7, garbage"], "10.0.0.5"),
            (&["garbage, 10.1.2.3"], "10.1.2.3"),
            // Only proxies: the left-most of them.
            (&["10.9.9.9, 10.1.2.3"], "10.9.9.9"),
            // No header at all: the proxy itself.
            (&[], "10.0.0.5"),
        ];
        for (lines, client) in cases {
            let map = headers("x-forwarded-for", lines);
            assert_eq!(resolve(peer, &map, &config), ip(client), "{lines:?}");
        }
    }

    #[test]
    fn the_configured_header_is_the_only_one_read() {
        let peer = ip("10.0.0.5");
        let mut map = headers("x-forwarded-for", &["198.51.100.1"]);
        map.append(
            "forwarded",
            HeaderValue::from_static("for=198.51.100.9;proto=http, For=\"[2001:db8::7]:4711\""),
        );
        let xff = proxies(&["10.0.0.5"], XFF);
        let forwarded = proxies(&["10.0.0.5"], ForwardedHeader::Forwarded);
        assert_eq!(resolve(peer, &map, &xff), ip("198.51.100.1"));
        assert_eq!(resolve(peer, &map, &forwarded), ip("2001:db8::7"));
        let unknown = headers("forwarded", &["for=198.51.100.9, for=unknown;proto=https"]);
        assert_eq!(resolve(peer, &unknown, &forwarded), peer);
        let no_for = headers("forwarded", &["proto=https;by=10.0.0.5"]);
        assert_eq!(resolve(peer, &no_for, &forwarded), peer);
    }

    #[test]
    fn an_ipv4_mapped_peer_is_its_ipv4_address() {
        let config = proxies(&["10.0.0.5"], XFF);
        let map = headers("x-forwarded-for", &["203.0.113.7"]);
        assert_eq!(
            resolve(ip("::ffff:10.0.0.5").to_canonical(), &map, &config),
            ip("203.0.113.7")
        );
    }
}
