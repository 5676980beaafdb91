//! Resource quantities (`100m`, `1.5Gi`, `1e3`) with the grammar, exact
//! arithmetic and canonical form of Kubernetes' `resource.Quantity`.
//!
//! Written here rather than taken from the `kube_quantity` crate: that crate
//! prints a quantity in the form it was parsed from (`2.5Gi` stays `2.5Gi`),
//! whereas an API server must answer with the canonical form (`2560Mi`), and
//! it has no notion of which strings Kubernetes keeps verbatim.
//!
//! A quantity is an exact decimal (`mantissa × 10^exponent`, arbitrary
//! precision) plus the format it was written in. Parsing rounds anything
//! finer than a nano-unit up (away from zero), caps binary-SI values at
//! 2^63-1, and remembers the original text when Kubernetes would (a string
//! already in canonical form: `100m`, `1Ki`, `1e3`). Two deliberate
//! departures: decimal exponents beyond ±10000 are refused (a Kubernetes
//! server accepts them but cannot compare or add them in reasonable memory),
//! and values of 10^21 and more in decimal-SI form print with the `E` suffix
//! and a larger number instead of losing their suffix.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as WireQuantity;

mod parse;

/// The largest decimal exponent accepted.
pub const MAX_EXPONENT: i32 = 10_000;

/// How a quantity is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `12e6`.
    DecimalExponent,
    /// `12Mi` (powers of 1024).
    BinarySI,
    /// `12M` (powers of 1000), and plain numbers.
    DecimalSI,
}

/// Why a string is not a quantity (Kubernetes' messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text is not a number followed by a suffix.
    #[error(
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )]
    FormatWrong,
    /// The number part cannot be read.
    #[error("unable to parse numeric part of quantity")]
    Numeric,
    /// The suffix is not one of the known ones.
    #[error("unable to parse quantity's suffix")]
    Suffix,
}

/// A Kubernetes resource quantity.
///
/// Equality and ordering compare the numeric value only (`1Ki == 1024`).
#[derive(Debug, Clone)]
pub struct Quantity {
    mantissa: BigInt,
    exponent: i32,
    format: Format,
    /// The parsed text, kept when it is already canonical.
    original: Option<String>,
}

fn pow10(n: u32) -> BigInt {
    BigInt::from(10u8).pow(n)
}

/// Divides by 10^n, rounding away from zero.
fn div_pow10_up(value: &BigInt, n: u32) -> BigInt {
    let (quotient, remainder) = value.div_rem(&pow10(n));
    if remainder.is_zero() {
        quotient
    } else if value.is_negative() {
        quotient - 1
    } else {
        quotient + 1
    }
}

/// Both mantissas at the smaller of the two exponents.
fn aligned(a: &Quantity, b: &Quantity) -> (BigInt, BigInt, i32) {
    let exponent = a.exponent.min(b.exponent);
    let scale = |q: &Quantity| &q.mantissa * pow10(q.exponent.abs_diff(exponent));
    (scale(a), scale(b), exponent)
}

/// Moves every factor of `base` out of `value`, at most `limit` times.
fn remove_factors(value: &BigInt, base: u32, limit: u32) -> (BigInt, u32) {
    let base = BigInt::from(base);
    let mut value = value.clone();
    let mut times = 0;
    while times < limit && !value.is_zero() {
        let (quotient, remainder) = value.div_rem(&base);
        if !remainder.is_zero() {
            break;
        }
        value = quotient;
        times += 1;
    }
    (value, times)
}

impl Quantity {
    /// `value` units (`Quantity::new(5, Format::DecimalSI)` is `5`).
    pub fn new(value: i64, format: Format) -> Self {
        Self::scaled(value, 0, format)
    }

    /// `value` thousandths (`Quantity::milli(250, Format::DecimalSI)` is `250m`).
    pub fn milli(value: i64, format: Format) -> Self {
        Self::scaled(value, -3, format)
    }

    /// `value × 10^exponent`.
    pub fn scaled(value: i64, exponent: i32, format: Format) -> Self {
        Self {
            mantissa: BigInt::from(value),
            exponent,
            format,
            original: None,
        }
    }

    /// Zero, written in decimal-SI form.
    pub fn zero() -> Self {
        Self::new(0, Format::DecimalSI)
    }

    /// Parses a quantity (see the module documentation for the grammar).
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        parse::parse(text)
    }

    /// The format the quantity was written in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa.is_zero()
    }

    /// -1, 0 or 1.
    pub fn signum(&self) -> i32 {
        match self.mantissa.sign() {
            Sign::Minus => -1,
            Sign::NoSign => 0,
            Sign::Plus => 1,
        }
    }

    /// The sum, in the format of `self` (of `other` when `self` is zero).
    pub fn add(&self, other: &Quantity) -> Quantity {
        let (a, b, exponent) = aligned(self, other);
        let format = if self.is_zero() {
            other.format
        } else {
            self.format
        };
        Self {
            mantissa: a + b,
            exponent,
            format,
            original: None,
        }
    }

    /// The difference, in the format of `self` (of `other` when `self` is zero).
    pub fn sub(&self, other: &Quantity) -> Quantity {
        self.add(&other.neg())
    }

    /// The opposite value, same format.
    pub fn neg(&self) -> Quantity {
        Self {
            mantissa: -&self.mantissa,
            exponent: self.exponent,
            format: self.format,
            original: None,
        }
    }

    /// The value in units of 10^`exponent`, rounded away from zero, or
    /// `None` if it does not fit in an `i64`.
    pub fn scaled_value(&self, exponent: i32) -> Option<i64> {
        let shift = self.exponent.abs_diff(exponent);
        let value = if self.exponent >= exponent {
            &self.mantissa * pow10(shift)
        } else {
            div_pow10_up(&self.mantissa, shift)
        };
        value.to_i64()
    }

    /// The value rounded away from zero to a whole number (`1500m` is 2).
    pub fn value(&self) -> Option<i64> {
        self.scaled_value(0)
    }

    /// The value in thousandths, rounded away from zero (`1.5` is 1500).
    pub fn milli_value(&self) -> Option<i64> {
        self.scaled_value(-3)
    }

    /// The canonical text, ignoring how the quantity was written.
    pub fn canonical(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        let format = match self.format {
            Format::BinarySI if self.binary_prints_exactly() => Format::BinarySI,
            Format::BinarySI => Format::DecimalSI,
            other => other,
        };
        match format {
            Format::BinarySI => self.canonical_binary(),
            _ => self.canonical_decimal(format),
        }
    }

    /// Whether a binary-SI quantity can print as one: a whole number of at
    /// least 1024 in magnitude.
    fn binary_prints_exactly(&self) -> bool {
        let whole = self.exponent >= 0 || {
            let divisor = pow10(self.exponent.unsigned_abs());
            self.mantissa.is_multiple_of(&divisor)
        };
        whole && self.scaled_value(0).is_none_or(|v| v.abs() >= 1024)
    }

    fn canonical_binary(&self) -> String {
        let whole = if self.exponent >= 0 {
            &self.mantissa * pow10(self.exponent.unsigned_abs())
        } else {
            &self.mantissa / pow10(self.exponent.unsigned_abs())
        };
        let (number, times) = remove_factors(&whole, 1024, 6);
        let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][times as usize];
        format!("{number}{suffix}")
    }

    fn canonical_decimal(&self, format: Format) -> String {
        let (mut number, removed) = remove_factors(&self.mantissa, 10, u32::MAX);
        let mut exponent = self.exponent.saturating_add_unsigned(removed);
        while exponent.rem_euclid(3) != 0 {
            number *= 10;
            exponent -= 1;
        }
        if format == Format::DecimalExponent {
            return if exponent == 0 {
                number.to_string()
            } else {
                format!("{number}e{exponent}")
            };
        }
        if exponent > 18 {
            number *= pow10(exponent.abs_diff(18));
            exponent = 18;
        }
        match exponent {
            -9 => format!("{number}n"),
            -6 => format!("{number}u"),
            -3 => format!("{number}m"),
            0 => number.to_string(),
            3 => format!("{number}k"),
            6 => format!("{number}M"),
            9 => format!("{number}G"),
            12 => format!("{number}T"),
            15 => format!("{number}P"),
            18 => format!("{number}E"),
            _ => format!("{number}e{exponent}"),
        }
    }

    /// Normal form for hashing: no trailing zeros in the mantissa.
    fn normalized(&self) -> (BigInt, i64) {
        if self.is_zero() {
            return (BigInt::zero(), 0);
        }
        let (mantissa, removed) = remove_factors(&self.mantissa, 10, u32::MAX);
        (mantissa, i64::from(self.exponent) + i64::from(removed))
    }
}

impl fmt::Display for Quantity {
    /// The text a Kubernetes API server sends back: the original text when
    /// it was kept, else the canonical form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.original {
            Some(original) => f.write_str(original),
            None => f.write_str(&self.canonical()),
        }
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b, _) = aligned(self, other);
        a.cmp(&b)
    }
}

impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normalized().hash(state);
    }
}

impl TryFrom<&WireQuantity> for Quantity {
    type Error = QuantityError;

    fn try_from(quantity: &WireQuantity) -> Result<Self, Self::Error> {
        Self::parse(&quantity.0)
    }
}

impl From<&Quantity> for WireQuantity {
    fn from(quantity: &Quantity) -> Self {
        WireQuantity(quantity.to_string())
    }
}

impl From<Quantity> for WireQuantity {
    fn from(quantity: Quantity) -> Self {
        WireQuantity(quantity.to_string())
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Self::zero()
    }
}

/// 2^63 - 1, the cap of binary-SI values.
fn max_allowed() -> BigInt {
    (BigInt::one() << 63u32) - 1
}
