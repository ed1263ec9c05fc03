//! IP lists (`IP_WHITELIST`, `TRUSTED_PROXIES`) and the client address behind trusted proxies.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Addresses and CIDR ranges, IPv4 and IPv6.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IpList(Vec<IpNet>);

impl IpList {
    /// Comma-separated (spaces allowed) addresses and CIDRs. An invalid entry is the error, quoted.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = match entry.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match entry.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(canonical(ip)),
                    Err(_) => return Err(format!("`{entry}` is not an IPv4/IPv6 address or CIDR range")),
                },
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// `::ffff:1.2.3.4` is 1.2.3.4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The client's address: the peer, unless the peer is a trusted proxy; then the nearest address in
/// `X-Forwarded-For` that is not a trusted proxy, or `X-Real-IP`. Headers from anyone else are ignored.
pub fn client_ip(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &IpList) -> Option<IpAddr> {
    let peer = canonical(peer?.ip());
    if trusted.is_empty() || !trusted.contains(peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| parse_forwarded(part.trim()))
        .collect();
    if let Some(ip) = forwarded.iter().rev().find(|ip| !trusted.contains(**ip)) {
        return Some(*ip);
    }
    if let Some(ip) = forwarded.first() {
        return Some(*ip);
    }
    let real = headers.get("x-real-ip").and_then(|v| v.to_str().ok()).and_then(|v| parse_forwarded(v.trim()));
    Some(real.unwrap_or(peer))
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_forwarded(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip())).map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        map
    }

    #[test]
    fn lists_take_addresses_and_ranges_and_name_a_bad_entry() {
        let list = IpList::parse(" 127.0.0.2, 10.0.0.0/8 ,2001:db8::/32,::1").unwrap();
        for ip in ["127.0.0.2", "10.1.2.3", "2001:db8::5", "::1", "::ffff:10.9.9.9"] {
            assert!(list.contains(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["127.0.0.1", "11.0.0.1", "2001:db9::1"] {
            assert!(!list.contains(ip.parse().unwrap()), "{ip}");
        }
        for bad in ["10.0.0.0/33", "300.1.1.1", "example.com", "1.2.3.4/x", "::1/129"] {
            let error = IpList::parse(&format!("127.0.0.1,{bad}")).unwrap_err();
            assert!(error.contains(bad), "{error}");
        }
        assert!(IpList::parse("").unwrap().is_empty());
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted = IpList::parse("127.0.0.1").unwrap();
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let stranger: SocketAddr = "192.0.2.9:5000".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "203.0.113.7, 198.51.100.1"), ("x-real-ip", "203.0.113.8")]);
        assert_eq!(client_ip(Some(peer), &h, &trusted), Some("198.51.100.1".parse().unwrap()));
        assert_eq!(client_ip(Some(stranger), &h, &trusted), Some("192.0.2.9".parse().unwrap()));
        assert_eq!(client_ip(Some(peer), &h, &IpList::default()), Some("127.0.0.1".parse().unwrap()));
        let real = headers(&[("x-real-ip", "203.0.113.8")]);
        assert_eq!(client_ip(Some(peer), &real, &trusted), Some("203.0.113.8".parse().unwrap()));
        let spoofed_chain = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 127.0.0.1")]);
        assert_eq!(client_ip(Some(peer), &spoofed_chain, &trusted), Some("203.0.113.7".parse().unwrap()));
    }
}
