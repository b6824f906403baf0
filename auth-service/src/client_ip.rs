//! The client's address for rate limiting: behind nginx, the last hop of `X-Forwarded-For` (the
//! address nginx itself saw, appended by `$proxy_add_x_forwarded_for`; earlier hops are
//! client-controlled), else `X-Real-IP`, else the socket's peer address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::{HeaderMap, request::Parts},
};

/// Whether to believe the proxy headers (`TRUST_PROXY_HEADERS`).
#[derive(Debug, Clone, Copy)]
pub struct TrustProxyHeaders(pub bool);

/// The client's IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    TrustProxyHeaders: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let trust = TrustProxyHeaders::from_ref(state).0;
        Ok(Self(client_ip(&parts.headers, peer, trust)))
    }
}

fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, trust_proxy: bool) -> IpAddr {
    let header = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .next_back()
    };
    let forwarded = trust_proxy
        .then(|| header("x-forwarded-for").or_else(|| header("x-real-ip")))
        .flatten();
    forwarded
        .or(peer)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
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

    const PEER: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(172, 18, 0, 5)));

    #[test]
    fn the_last_forwarded_hop_wins_over_spoofed_earlier_ones() {
        let map = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7")]);
        assert_eq!(
            client_ip(&map, PEER, true),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn x_real_ip_then_the_peer_are_the_fallbacks() {
        let real = headers(&[("x-real-ip", "198.51.100.2")]);
        assert_eq!(
            client_ip(&real, PEER, true),
            "198.51.100.2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(&HeaderMap::new(), PEER, true), PEER.unwrap());
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip(&garbage, PEER, true), PEER.unwrap());
    }

    #[test]
    fn untrusted_headers_are_ignored() {
        let map = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(client_ip(&map, PEER, false), PEER.unwrap());
    }
}
