//! The client's address for rate limiting. Forwarded headers are believed only from the proxies
//! named in `TRUSTED_PROXIES`: starting from the socket's peer, every hop that is a trusted proxy
//! is replaced by the address it says it received the request from (the hop before it in
//! `X-Forwarded-For`), and the first untrusted address is the client. Anyone else's
//! `X-Forwarded-For` is ignored, so a client cannot choose its own address, and a proxy in front
//! of nginx does not make every client one address.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::{HeaderMap, request::Parts},
};
use ipnet::IpNet;

/// The proxies whose forwarded headers are believed (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(Arc::new(networks))
    }

    /// Parses a comma-separated list of CIDRs or bare addresses (`10.0.0.0/8, 127.0.0.1`);
    /// `none` trusts no proxy.
    pub fn parse(list: &str) -> Result<Self, String> {
        if list.trim().eq_ignore_ascii_case("none") {
            return Ok(Self::default());
        }
        let networks = list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{item:?} is not an address or a CIDR"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(networks))
    }

    /// The loopback addresses: a proxy on the same host.
    pub fn loopback() -> Self {
        Self::parse("127.0.0.1/32, ::1/128").expect("valid CIDRs")
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The networks, for logging.
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }
}

/// The client's IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    TrustedProxies: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        Ok(Self(client_ip(
            &parts.headers,
            peer,
            &TrustedProxies::from_ref(state),
        )))
    }
}

fn client_ip(headers: &HeaderMap, peer: IpAddr, trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.trusts(client) {
        return client;
    }
    // Right to left: each hop was appended by the proxy that received the request from it.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        let Ok(address) = hop.parse::<IpAddr>() else {
            // A hop we cannot read: stop at the last address a trusted proxy vouched for.
            break;
        };
        client = address.to_canonical();
        if !trusted.trusts(client) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nginx_only() -> TrustedProxies {
        TrustedProxies::parse("172.18.0.0/16").unwrap()
    }

    #[test]
    fn behind_a_trusted_proxy_the_last_forwarded_hop_is_the_client() {
        let map = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7")]);

        assert_eq!(
            client_ip(&map, ip("172.18.0.5"), &nginx_only()),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_back_to_the_first_untrusted_hop() {
        // Client -> TLS proxy (10.0.0.2) -> nginx (172.18.0.5) -> service.
        let trusted = TrustedProxies::parse("172.18.0.0/16, 10.0.0.2").unwrap();
        let map = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2")]);

        assert_eq!(
            client_ip(&map, ip("172.18.0.5"), &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
        let map = headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-real-ip", "203.0.113.8"),
        ]);

        assert_eq!(
            client_ip(&map, ip("198.51.100.9"), &nginx_only()),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_ip(&map, ip("172.18.0.5"), &TrustedProxies::default()),
            ip("172.18.0.5")
        );
    }

    #[test]
    fn without_a_readable_hop_the_trusted_peer_is_the_address() {
        let peer = ip("172.18.0.5");

        assert_eq!(client_ip(&HeaderMap::new(), peer, &nginx_only()), peer);
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(&garbage, peer, &nginx_only()), peer);
    }

    #[test]
    fn ipv4_mapped_ipv6_peers_match_ipv4_networks() {
        let map = headers(&[("x-forwarded-for", "203.0.113.7")]);

        assert_eq!(
            client_ip(&map, ip("::ffff:172.18.0.5"), &nginx_only()),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn the_list_takes_cidrs_and_bare_addresses_and_names_a_bad_item() {
        let parsed = TrustedProxies::parse(" 10.0.0.0/8, 127.0.0.1 ,::1,").unwrap();

        assert_eq!(parsed.networks().len(), 3);
        assert!(parsed.trusts(ip("10.1.2.3")));
        assert!(!parsed.trusts(ip("127.0.0.2")));
        assert!(
            TrustedProxies::parse("10.0.0.0/8, nope")
                .unwrap_err()
                .contains("nope")
        );
        assert_eq!(TrustedProxies::parse("none").unwrap().networks().len(), 0);
    }
}
