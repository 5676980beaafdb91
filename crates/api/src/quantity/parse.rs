//! Reading a quantity from text: the scanner that splits sign, number and
//! suffix the way Kubernetes does (and so accepts and refuses the same
//! strings), the suffix table, rounding to nano-units, and the rule that
//! decides when the original text is kept as the canonical one.

use num_bigint::BigInt;
use num_traits::{Signed, Zero};

use super::{Format, MAX_EXPONENT, Quantity, QuantityError, div_pow10_up, max_allowed};

/// The pieces of a quantity string.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Pieces<'a> {
    positive: bool,
    /// The integer digits without leading zeros (`"0"` if none).
    num: &'a str,
    /// The fraction digits.
    denom: &'a str,
    suffix: &'a str,
}

fn digits_end(bytes: &[u8], from: usize) -> usize {
    let mut end = from;
    while bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    end
}

/// Splits `text` like Kubernetes' scanner: a sign, digits, an optional `.`
/// and digits, then suffix letters, an optional sign and digits.
pub(super) fn split(text: &str) -> Result<Pieces<'_>, QuantityError> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut positive = true;
    match bytes.first() {
        Some(b'-') => {
            positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    while bytes.get(pos) == Some(&b'0') {
        pos += 1;
    }
    if pos >= bytes.len() {
        return Ok(Pieces {
            positive,
            num: "0",
            denom: "",
            suffix: "",
        });
    }
    let num_end = digits_end(bytes, pos);
    let num = if num_end == pos {
        "0"
    } else {
        &text[pos..num_end]
    };
    pos = num_end;
    let mut denom = "";
    if bytes.get(pos) == Some(&b'.') {
        let denom_end = digits_end(bytes, pos + 1);
        denom = &text[pos + 1..denom_end];
        pos = denom_end;
    }
    let suffix_start = pos;
    while bytes.get(pos).is_some_and(|b| b"eEinumkKMGTP".contains(b)) {
        pos += 1;
    }
    if matches!(bytes.get(pos), Some(b'-' | b'+')) {
        pos += 1;
    }
    if digits_end(bytes, pos) != bytes.len() {
        return Err(QuantityError::FormatWrong);
    }
    Ok(Pieces {
        positive,
        num,
        denom,
        suffix: &text[suffix_start..],
    })
}

/// `(base, exponent, format)` of a suffix.
fn interpret(suffix: &str) -> Result<(u32, i32, Format), QuantityError> {
    let decimal = |exponent| Ok((10, exponent, Format::DecimalSI));
    let binary = |exponent| Ok((2, exponent, Format::BinarySI));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let digits = suffix
                .strip_prefix(['e', 'E'])
                .filter(|d| !d.is_empty())
                .ok_or(QuantityError::Suffix)?;
            let exponent: i32 = digits.parse().map_err(|_| QuantityError::Suffix)?;
            if exponent.abs() > MAX_EXPONENT {
                return Err(QuantityError::Suffix);
            }
            Ok((10, exponent, Format::DecimalExponent))
        }
    }
}

/// Whether Kubernetes keeps `text` as the quantity's canonical string: only
/// when its fast integer path applies and the text has no redundant digits.
fn keeps_original(pieces: &Pieces<'_>, base: u32, exponent: i32) -> bool {
    let shifted = format!("{}{}", pieces.num, pieces.denom);
    if base == 2 {
        // Kubernetes' estimate of the digits left after the binary multiplier.
        let multiplier_digits = i64::from(exponent * 3 / 10);
        let fits = pieces.denom.is_empty() && pieces.num.len() as i64 + multiplier_digits < 15;
        let value = shifted.parse::<i64>().ok();
        let no_overflow = value
            .and_then(|v| v.checked_mul(1i64 << exponent))
            .is_some();
        return fits && no_overflow && value.is_some_and(|v| v & 7 != 0);
    }
    let digits = pieces.num.len() + pieces.denom.len();
    let scale = i64::from(exponent) - pieces.denom.len() as i64;
    digits <= 18
        && scale >= -9
        && scale % 3 == 0
        && !shifted.ends_with("000")
        && !shifted.starts_with('0')
}

/// The exact value of the digits: `num.denom` as a mantissa and exponent.
fn digits_value(pieces: &Pieces<'_>) -> Result<(BigInt, i32), QuantityError> {
    let digits = format!("{}{}", pieces.num, pieces.denom);
    let mantissa: BigInt = digits.parse().map_err(|_| QuantityError::Numeric)?;
    let exponent = -i32::try_from(pieces.denom.len()).map_err(|_| QuantityError::Numeric)?;
    Ok((if pieces.positive { mantissa } else { -mantissa }, exponent))
}

pub(super) fn parse(text: &str) -> Result<Quantity, QuantityError> {
    if text.is_empty() {
        return Err(QuantityError::FormatWrong);
    }
    if text == "0" {
        return Ok(Quantity {
            original: Some(text.to_string()),
            ..Quantity::zero()
        });
    }
    let pieces = split(text)?;
    let (base, exponent, mut format) = interpret(pieces.suffix)?;
    let keep = keeps_original(&pieces, base, exponent);
    let (mut mantissa, mut scale) = digits_value(&pieces)?;
    if base == 2 {
        mantissa <<= exponent.unsigned_abs();
    } else {
        scale += exponent;
    }
    if scale < -9 && !mantissa.is_zero() {
        mantissa = div_pow10_up(&mantissa, scale.abs_diff(-9));
        scale = -9;
    }
    if format == Format::BinarySI {
        let max = max_allowed();
        if mantissa.abs() > max {
            mantissa = if mantissa.is_negative() { -max } else { max };
            scale = 0;
        }
        let one = super::pow10(scale.unsigned_abs());
        let below_one = scale < 0 && mantissa.abs() < one;
        if !mantissa.is_zero() && below_one {
            format = Format::DecimalSI;
        }
    }
    Ok(Quantity {
        mantissa,
        exponent: scale,
        format,
        original: keep.then(|| text.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_kubernetes() {
        let cases = [
            ("0.025Ti", (true, "0", "025", "Ti")),
            ("-1.025Ti", (false, "1", "025", "Ti")),
            (".", (true, "0", "", "")),
            ("-.", (false, "0", "", "")),
            ("1E-3", (true, "1", "", "E-3")),
            ("007m", (true, "7", "", "m")),
        ];
        for (text, (positive, num, denom, suffix)) in cases {
            let want = Pieces {
                positive,
                num,
                denom,
                suffix,
            };
            assert_eq!(split(text), Ok(want), "splitting {text}");
        }
    }
}
