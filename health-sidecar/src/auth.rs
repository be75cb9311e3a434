//! Who may change state: the rules for POST endpoints.
//!
//! With a token: `Authorization: Bearer TOKEN`, compared in constant time,
//! or 401. Without one: only loopback peers (403 otherwise), which is safe
//! because the sidecar shares the app's network namespace, and an operator
//! on the host reaches it through loopback too.

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap, StatusCode};

/// The outcome of an authorization check, with the text the client sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// 401: a token is configured and the request did not carry it.
    Unauthorized,
    /// 403: no token is configured and the peer is not on loopback.
    Forbidden,
}

impl Denied {
    pub fn status(self) -> StatusCode {
        match self {
            Denied::Unauthorized => StatusCode::UNAUTHORIZED,
            Denied::Forbidden => StatusCode::FORBIDDEN,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Denied::Unauthorized => "missing or wrong bearer token",
            Denied::Forbidden => "POST is allowed from loopback only when no token is configured",
        }
    }
}

/// Checks a POST request. `peer` is `None` when the connection's address is
/// unknown, which is treated as not loopback.
pub fn check(
    token: Option<&str>,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<(), Denied> {
    match token {
        Some(expected) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(bearer);
            match given {
                Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
                _ => Err(Denied::Unauthorized),
            }
        }
        None => match peer {
            Some(addr) if is_loopback(addr.ip()) => Ok(()),
            _ => Err(Denied::Forbidden),
        },
    }
}

/// Extracts the credentials of a `Bearer` authorization (scheme name is
/// case-insensitive, RFC 9110 section 11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// Loopback, including IPv4 addresses mapped into IPv6 (`::ffff:127.0.0.1`,
/// what a dual-stack `[::]` listener reports for IPv4 peers).
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Compares without an early exit, so the time taken does not tell how many
/// leading bytes of a guess were right. The length is folded into the
/// result rather than checked first.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    fn peer(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn token_rules() {
        let t = Some("s3cret");
        assert_eq!(
            check(t, &headers(Some("Bearer s3cret")), peer("10.0.0.9:1")),
            Ok(())
        );
        assert_eq!(check(t, &headers(Some("bearer  s3cret ")), None), Ok(()));
        assert_eq!(
            check(t, &headers(Some("Bearer s3cre")), peer("127.0.0.1:1")),
            Err(Denied::Unauthorized)
        );
        assert_eq!(
            check(t, &headers(Some("Bearer s3cret2")), None),
            Err(Denied::Unauthorized)
        );
        assert_eq!(
            check(t, &headers(Some("Basic s3cret")), None),
            Err(Denied::Unauthorized)
        );
        // a token is needed even from loopback
        assert_eq!(
            check(t, &headers(None), peer("127.0.0.1:1")),
            Err(Denied::Unauthorized)
        );
    }

    #[test]
    fn loopback_rules_without_token() {
        assert_eq!(check(None, &headers(None), peer("127.0.0.1:5")), Ok(()));
        assert_eq!(check(None, &headers(None), peer("127.8.9.10:5")), Ok(()));
        assert_eq!(check(None, &headers(None), peer("[::1]:5")), Ok(()));
        assert_eq!(
            check(None, &headers(None), peer("[::ffff:127.0.0.1]:5")),
            Ok(())
        );
        assert_eq!(
            check(None, &headers(None), peer("10.1.2.3:5")),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            check(None, &headers(None), peer("[::ffff:10.1.2.3]:5")),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            check(None, &headers(None), peer("[2001:db8::1]:5")),
            Err(Denied::Forbidden)
        );
        assert_eq!(check(None, &headers(None), None), Err(Denied::Forbidden));
    }

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"abc", b""));
        // same bytes then NULs must not compare equal to the shorter one
        assert!(!constant_time_eq(b"ab\0", b"ab"));
    }
}
