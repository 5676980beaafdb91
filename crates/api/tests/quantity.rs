//! Quantities parse, print, compare and add as on a Kubernetes API server.

use keelson_api::k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;
use keelson_api::quantity::{Format, Quantity, QuantityError};

fn q(text: &str) -> Quantity {
    Quantity::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

#[test]
fn prints_the_canonical_form() {
    let cases = [
        ("0.5", "500m"),
        ("1000m", "1"),
        ("1.5Gi", "1536Mi"),
        ("1024Mi", "1Gi"),
        ("1000M", "1G"),
        ("2.5Gi", "2560Mi"),
        ("1.5", "1500m"),
        ("0.1m", "100u"),
        ("1.08", "1080m"),
        ("0.001", "1m"),
        ("1000u", "1m"),
        ("0.0005k", "500m"),
        ("1.2e3", "1200"),
        ("1.3E+6", "1300e3"),
        ("0.5e-1", "50e-3"),
        ("0.05Gi", "53687091200m"),
        ("0.5Ki", "512"),
        ("1.5Ki", "1536"),
        ("-1.5Gi", "-1536Mi"),
        ("-0.5", "-500m"),
        ("00", "0"),
        ("0Ki", "0"),
        ("0m", "0"),
    ];
    for (input, want) in cases {
        assert_eq!(q(input).to_string(), want, "printing {input}");
    }
}

#[test]
fn keeps_text_that_is_already_canonical() {
    let cases = [
        "100m", "1Ki", "100Mi", "1e3", "1E3", "12E", "-1", "1", "3k", "80e-3", "1025Ki", "1n",
    ];
    for input in cases {
        assert_eq!(q(input).to_string(), input);
    }
}

#[test]
fn keeps_redundant_signs_and_zeros_like_kubernetes_does() {
    // Kubernetes echoes these back verbatim; the canonical form is different.
    let cases = [
        ("+1", "1"),
        ("01", "1"),
        ("1.", "1"),
        ("1.G", "1G"),
        ("1E3", "1e3"),
        ("10.035M", "10035k"),
        ("6.987654321G", "6987654321"),
        ("1.500", "1500m"),
    ];
    for (input, canonical) in cases {
        let quantity = q(input);
        assert_eq!(quantity.to_string(), input);
        assert_eq!(quantity.canonical(), canonical);
    }
}

#[test]
fn rounds_below_a_nano_unit_up() {
    let cases = [
        ("3.001n", "4n"),
        ("1.1E-9", "2e-9"),
        ("0.0000000001", "1n"),
        ("0.00000012345", "124n"),
        ("0.9n", "1n"),
        (".000000000001Ki", "2n"),
        (".001Ki", "1024m"),
        (".000000001Ki", "1024n"),
        ("-0.0000000001", "-1n"),
    ];
    for (input, want) in cases {
        assert_eq!(q(input).to_string(), want, "rounding {input}");
    }
}

#[test]
fn caps_binary_values_at_the_largest_int64() {
    for input in ["9Ei", "8Ei", "9223372036854775807Ki"] {
        assert_eq!(
            q(input).to_string(),
            "9223372036854775807",
            "capping {input}"
        );
    }
    // Decimal values are not capped.
    assert_eq!(q("12E").add(&q("12E")).to_string(), "24E");
}

#[test]
fn remembers_the_format() {
    let cases = [
        ("1Ki", Format::BinarySI),
        ("1k", Format::DecimalSI),
        ("1e3", Format::DecimalExponent),
        ("5", Format::DecimalSI),
        ("0.000000000001Ki", Format::DecimalSI),
        ("0Ki", Format::BinarySI),
    ];
    for (input, want) in cases {
        assert_eq!(q(input).format(), want, "format of {input}");
    }
}

#[test]
fn accepts_what_kubernetes_accepts_with_odd_numbers() {
    let cases = [
        (".", "0"),
        ("-", "0"),
        ("+.", "0"),
        (".5", "500m"),
        ("-.5", "-500m"),
    ];
    for (input, want) in cases {
        assert_eq!(q(input).canonical(), want, "reading {input}");
    }
}

#[test]
fn refuses_malformed_text_with_kubernetes_messages() {
    let cases = [
        ("", QuantityError::FormatWrong),
        ("1.1.M", QuantityError::FormatWrong),
        ("1+1.0M", QuantityError::FormatWrong),
        (" 1", QuantityError::FormatWrong),
        ("1 ", QuantityError::FormatWrong),
        ("aoeu", QuantityError::FormatWrong),
        ("0.1mi", QuantityError::Suffix),
        ("0.1am", QuantityError::FormatWrong),
        (".5i", QuantityError::Suffix),
        ("1i", QuantityError::Suffix),
        ("-3.01i", QuantityError::Suffix),
        ("-3.01e-", QuantityError::Suffix),
        ("1e", QuantityError::Suffix),
        ("1Ki3", QuantityError::Suffix),
        ("1e99999", QuantityError::Suffix),
    ];
    for (input, want) in cases {
        assert_eq!(
            Quantity::parse(input).err(),
            Some(want),
            "parsing {input:?}"
        );
    }
    assert_eq!(
        QuantityError::Suffix.to_string(),
        "unable to parse quantity's suffix"
    );
    assert!(
        QuantityError::FormatWrong
            .to_string()
            .starts_with("quantities must match the regular expression '^([+-]?[0-9.]+)")
    );
}

#[test]
fn compares_values_exactly_across_formats() {
    assert_eq!(q("1Ki"), q("1024"));
    assert_eq!(q("1"), q("1000m"));
    assert_eq!(q("1e3"), q("1k"));
    assert!(q("1G") < q("1Gi"));
    assert!(q("100m") < q("1"));
    assert!(q("-1") < q("0"));
    assert!(q("999999999999999999999") > q("999999999999999999998"));
    let mut set = std::collections::HashSet::new();
    set.insert(q("1Ki"));
    assert!(set.contains(&q("1024")));
}

#[test]
fn adds_and_subtracts_exactly() {
    let cases = [
        ("1Ki", "1Ki", "2Ki"),
        ("100m", "900m", "1"),
        ("5Mi", "1", "5242881"),
        ("0", "1Mi", "1Mi"),
        ("1.5Gi", "-512Mi", "1Gi"),
        ("1", "1n", "1000000001n"),
        ("250m", "250m", "500m"),
    ];
    for (a, b, want) in cases {
        assert_eq!(q(a).add(&q(b)).to_string(), want, "{a} + {b}");
    }
    assert_eq!(q("1Gi").sub(&q("512Mi")).to_string(), "512Mi");
    assert_eq!(q("1").sub(&q("1")).to_string(), "0");
    assert_eq!(q("100m").neg().to_string(), "-100m");
}

#[test]
fn reads_whole_and_milli_values_rounding_up() {
    assert_eq!(q("1500m").value(), Some(2));
    assert_eq!(q("-1500m").value(), Some(-2));
    assert_eq!(q("1.5").milli_value(), Some(1500));
    assert_eq!(q("1n").milli_value(), Some(1));
    assert_eq!(q("1Gi").value(), Some(1 << 30));
    assert_eq!(q("100E").value(), None);
    assert_eq!(Quantity::milli(250, Format::DecimalSI).to_string(), "250m");
    assert_eq!(Quantity::new(2048, Format::BinarySI).to_string(), "2Ki");
}

#[test]
fn converts_to_and_from_the_wire_type() {
    let parsed = Quantity::try_from(&WireQuantity("2.5Gi".to_string()));
    let wire = WireQuantity::from(parsed.expect("2.5Gi parses"));
    assert_eq!(wire.0, "2560Mi");
    assert!(Quantity::try_from(&WireQuantity("x".to_string())).is_err());
}
