//! The string formats kube-openapi checks in custom resources (its
//! `strfmt.Default` registry less what CRD schemas strip), and Go's way of
//! printing a float in its messages.

use std::sync::LazyLock;

use regex::Regex;

fn regex(source: &str) -> Regex {
    Regex::new(source).expect("a valid built-in regular expression")
}

static DATE: LazyLock<Regex> = LazyLock::new(|| regex(r"^(\d{4})-(\d{2})-(\d{2})$"));
static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$")
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
});
static UUID_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-([345])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
});
static HOSTNAME: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$",
    )
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| regex(r"^[^@\s<>]+@[^@\s<>]+$"));
static MAC: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$|^([0-9a-f]{2}[:-]){7}[0-9a-f]{2}$|^([0-9a-f]{2}[:-]){19}[0-9a-f]{2}$|^([0-9a-f]{4}\.){2}[0-9a-f]{4}$",
    )
});
static HEX_COLOR: LazyLock<Regex> = LazyLock::new(|| regex(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"));
static RGB_COLOR: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$",
    )
});
static BSON_OBJECT_ID: LazyLock<Regex> = LazyLock::new(|| regex(r"^[0-9a-fA-F]{24}$"));
static SSN: LazyLock<Regex> = LazyLock::new(|| regex(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$"));
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(-?\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?|sec|min|hr)\s*)+$",
    )
});
static URI: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$|^/[^\s]*$"));

/// Whether `value` is of `format`; `None` for a format that is not checked
/// (upstream drops unknown formats, and `password` takes anything).
pub(super) fn check(format: &str, value: &str) -> Option<bool> {
    let valid = match format {
        "byte" => base64_std(value),
        "date" => date(value),
        "date-time" | "datetime" => date_time(value),
        "duration" => DURATION.is_match(value),
        "uuid" => UUID.is_match(value),
        "uuid3" | "uuid4" | "uuid5" => uuid_version(value, &format[4..]),
        "hostname" => value.len() <= 255 && HOSTNAME.is_match(value),
        "email" => EMAIL.is_match(value),
        "ipv4" => value.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => value.parse::<std::net::Ipv6Addr>().is_ok(),
        "cidr" => value.parse::<ipnet::IpNet>().is_ok(),
        "mac" => MAC.is_match(value),
        "hexcolor" => HEX_COLOR.is_match(value),
        "rgbcolor" => RGB_COLOR.is_match(value),
        "bsonobjectid" => BSON_OBJECT_ID.is_match(value),
        "ssn" => SSN.is_match(value),
        "uri" => URI.is_match(value),
        _ => return None,
    };
    Some(valid)
}

fn base64_std(value: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .is_ok()
}

fn number(captures: &regex::Captures<'_>, i: usize) -> u32 {
    captures
        .get(i)
        .and_then(|m| m.as_str().parse().ok())
        .unwrap_or(u32::MAX)
}

fn date(value: &str) -> bool {
    DATE.captures(value)
        .is_some_and(|c| calendar(number(&c, 2), number(&c, 3)))
}

fn calendar(month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

fn date_time(value: &str) -> bool {
    DATE_TIME.captures(value).is_some_and(|c| {
        calendar(number(&c, 2), number(&c, 3))
            && number(&c, 4) < 24
            && number(&c, 5) < 60
            && number(&c, 6) <= 60
    })
}

fn uuid_version(value: &str, version: &str) -> bool {
    UUID_VERSION
        .captures(value)
        .is_some_and(|c| c.get(1).is_some_and(|v| v.as_str() == version))
}

/// A float as Go's `%v` prints it: the shortest digits, in exponent form
/// below 1e-4 and from 1e+06 up.
pub(super) fn go_float(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return value.to_string();
    }
    let exponent = value.abs().log10().floor() as i32;
    if (-4..6).contains(&exponent) {
        value.to_string()
    } else {
        go_exponent(value)
    }
}

fn go_exponent(value: f64) -> String {
    let formatted = format!("{value:e}");
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_formats_as_kube_openapi() {
        let cases = [
            ("date", "2024-02-29", Some(true)),
            ("date", "2024-13-01", Some(false)),
            ("date-time", "2024-02-29T10:00:00Z", Some(true)),
            ("date-time", "2024-02-29T10:00:00.123+02:00", Some(true)),
            ("date-time", "yesterday", Some(false)),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", Some(true)),
            ("uuid", "not-a-uuid", Some(false)),
            ("uuid4", "123e4567-e89b-42d3-a456-426614174000", Some(true)),
            ("uuid4", "123e4567-e89b-12d3-a456-426614174000", Some(false)),
            ("byte", "aGVsbG8=", Some(true)),
            ("byte", "%%%", Some(false)),
            ("ipv4", "10.0.0.1", Some(true)),
            ("ipv4", "10.0.0.256", Some(false)),
            ("ipv6", "::1", Some(true)),
            ("cidr", "10.0.0.0/8", Some(true)),
            ("cidr", "10.0.0.0", Some(false)),
            ("hostname", "example.com", Some(true)),
            ("hostname", "-bad-", Some(false)),
            ("email", "a@b.c", Some(true)),
            ("email", "nope", Some(false)),
            ("duration", "1h30m", Some(true)),
            ("duration", "3 days", Some(true)),
            ("duration", "soon", Some(false)),
            ("mac", "00:1a:2b:3c:4d:5e", Some(true)),
            ("password", "anything", None),
            ("int32", "1", None),
        ];
        for (format, value, want) in cases {
            assert_eq!(check(format, value), want, "{format} {value}");
        }
    }

    #[test]
    fn prints_floats_as_go() {
        let cases = [
            (10.0, "10"),
            (1.5, "1.5"),
            (-2.0, "-2"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
        ];
        for (value, want) in cases {
            assert_eq!(go_float(value), want, "{value}");
        }
    }
}
