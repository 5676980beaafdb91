//! IP addresses and CIDRs as upstream's `IsValidIP` and `IsValidCIDR`
//! check them: strictly (canonical form, no leading zeros, no IPv4-mapped
//! IPv6) for new fields, leniently for the fields that have always
//! accepted any parseable value.

use std::net::{IpAddr, Ipv4Addr};

use crate::field_error::FieldError;
use crate::field_path::FieldPath;

const INVALID_IP: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
const INVALID_CIDR: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

/// An IPv4 address whose octets may carry leading zeros, read as decimal
/// (as Go's `ParseIPSloppy` reads them).
fn sloppy_v4(text: &str) -> Option<Ipv4Addr> {
    let octets: Vec<u8> = text
        .split('.')
        .map(|part| {
            let digits =
                !part.is_empty() && part.len() <= 3 && part.bytes().all(|b| b.is_ascii_digit());
            digits.then(|| part.parse::<u8>().ok()).flatten()
        })
        .collect::<Option<_>>()?;
    <[u8; 4]>::try_from(octets).ok().map(Ipv4Addr::from)
}

/// The address `text` means, and whether it is written strictly.
fn parse_ip(text: &str) -> Option<(IpAddr, bool)> {
    match text.parse::<IpAddr>() {
        Ok(ip) => Some((ip, true)),
        Err(_) => sloppy_v4(text).map(|ip| (IpAddr::V4(ip), false)),
    }
}

fn is_v4_in_v6(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some())
}

/// Problems with `value` as an IP address in canonical form.
pub(crate) fn ip_problems(value: &str) -> Vec<String> {
    let Some((ip, strict)) = parse_ip(value) else {
        return vec![INVALID_IP.to_string()];
    };
    let mut problems = Vec::new();
    if !strict {
        problems.push("must not have leading 0s".to_string());
    }
    if is_v4_in_v6(ip) {
        problems.push("must not be an IPv4-mapped IPv6 address".to_string());
    }
    if problems.is_empty() && ip.to_string() != value {
        problems.push(format!("must be in canonical form (\"{ip}\")"));
    }
    problems
}

/// The network and prefix length `text` means, and whether its address is
/// written strictly.
fn parse_cidr(text: &str) -> Option<(IpAddr, u8, bool)> {
    let (address, bits) = text.split_once('/')?;
    let (ip, strict) = parse_ip(address)?;
    let digits = !bits.is_empty() && bits.bytes().all(|b| b.is_ascii_digit());
    let bits: u8 = bits.parse().ok().filter(|_| digits)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits, strict))
}

/// The network address of `ip` under a prefix of `bits`.
fn network(ip: IpAddr, bits: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

/// Problems with `value` as a CIDR in canonical form.
pub(crate) fn cidr_problems(value: &str) -> Vec<String> {
    let Some((ip, bits, strict)) = parse_cidr(value) else {
        return vec![INVALID_CIDR.to_string()];
    };
    let mut problems = Vec::new();
    if !strict {
        problems.push("must not have leading 0s in IP".to_string());
    }
    if is_v4_in_v6(ip) {
        problems.push("must not have an IPv4-mapped IPv6 address".to_string());
    }
    let canonical = format!("{}/{bits}", network(ip, bits));
    if problems.is_empty() && canonical != value {
        problems.push(format!("must be in canonical form (\"{canonical}\")"));
    }
    problems
}

/// Errors of a strictly checked CIDR at `path`.
pub(crate) fn cidr(value: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    for problem in cidr_problems(value) {
        errors.push(FieldError::invalid(path, value, problem));
    }
}

/// Errors of a leniently checked CIDR at `path`: anything that parses.
pub(crate) fn legacy_cidr(value: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if parse_cidr(value).is_none() {
        errors.push(FieldError::invalid(path, value, INVALID_CIDR));
    }
}

/// Errors of a leniently checked IP address at `path`.
pub(crate) fn legacy_ip(value: &str, path: &FieldPath, errors: &mut Vec<FieldError>) {
    if parse_ip(value).is_none() {
        errors.push(FieldError::invalid(path, value, INVALID_IP));
    }
}

/// Whether an address parses at all (an ingress host may not be one).
pub(crate) fn is_ip(value: &str) -> bool {
    parse_ip(value).is_some()
}

/// The network and prefix of a CIDR that parses.
pub(crate) fn network_of(value: &str) -> Option<(IpAddr, u8)> {
    parse_cidr(value).map(|(ip, bits, _)| (network(ip, bits), bits))
}

/// Whether `inner` is inside the network `outer` (both parsed CIDRs).
pub(crate) fn contains(outer: (IpAddr, u8), inner: IpAddr) -> bool {
    outer.0.is_ipv4() == inner.is_ipv4() && network(inner, outer.1) == outer.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_networks() {
        assert!(ip_problems("10.0.0.1").is_empty());
        assert!(ip_problems("2001:db8::1").is_empty());
        assert_eq!(ip_problems("010.0.0.1"), ["must not have leading 0s"]);
        assert_eq!(
            ip_problems("2001:DB8::1"),
            ["must be in canonical form (\"2001:db8::1\")"]
        );
        assert_eq!(ip_problems("x"), [INVALID_IP]);
        assert!(cidr_problems("10.0.0.0/8").is_empty());
        assert_eq!(
            cidr_problems("10.1.0.0/8"),
            ["must be in canonical form (\"10.0.0.0/8\")"]
        );
        assert_eq!(cidr_problems("10.0.0.0/33"), [INVALID_CIDR]);
        let outer = network_of("10.0.0.0/8").expect("parses");
        assert!(contains(outer, "10.2.0.0".parse().expect("an ip")));
        assert!(!contains(outer, "11.0.0.0".parse().expect("an ip")));
    }
}
