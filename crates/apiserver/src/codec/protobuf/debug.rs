//! Reading back the `Debug` text of a decoded k8s-pb message: the one place
//! where its field names are public.
//!
//! k8s-pb has prost structs but neither serde nor descriptors, and prost's
//! derived `Debug` is a small fixed grammar: `Name { field: value, .. }`,
//! `Some(..)`/`None` for optional fields, `[..]` for repeated fields and
//! bytes, `{key: value, ..}` for maps, and Rust literals for scalars.
//! Parsing it gives a tree with the field names (snake_case, as prost
//! derived them from the `.proto` names) that [`super::json`] maps onto the
//! OpenAPI schema. The text is always prost's own output (never client
//! input), so a parse failure is a bug, reported as such.

use thiserror::Error;

/// A value of the `Debug` text.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// An unset optional field.
    None,
    /// A set optional field.
    Some(Box<Node>),
    /// A message: its type name and its fields in declaration order.
    Message {
        name: String,
        fields: Vec<(String, Node)>,
    },
    /// A repeated field.
    List(Vec<Node>),
    /// A repeated integer field, or the bytes of a `bytes` field: kept
    /// compact, as a 3 MiB body may hold as many bytes.
    Integers(Vec<i64>),
    /// A map field.
    Map(Vec<(Node, Node)>),
    Str(String),
    /// A number as prost printed it (`-3`, `1.5`, `1e-7`, `NaN`).
    Number(String),
    Bool(bool),
}

/// Where the `Debug` text did not follow the grammar.
#[derive(Debug, Error)]
#[error("failed to read the decoded message at offset {offset}: {expected}")]
pub struct ParseError {
    offset: usize,
    expected: &'static str,
}

/// Parses the `{:?}` text of a prost message.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut parser = Parser { text, at: 0 };
    let node = parser.value()?;
    parser.skip_spaces();
    if parser.at != text.len() {
        return Err(parser.error("the end of the text"));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn error(&self, expected: &'static str) -> ParseError {
        ParseError {
            offset: self.at,
            expected,
        }
    }

    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_spaces(&mut self) {
        let trimmed = self.rest().trim_start_matches(' ');
        self.at = self.text.len() - trimmed.len();
    }

    /// Consumes `token` (after spaces) if it comes next.
    fn eat(&mut self, token: &str) -> bool {
        self.skip_spaces();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &'static str) -> Result<(), ParseError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(token))
        }
    }

    fn value(&mut self) -> Result<Node, ParseError> {
        self.skip_spaces();
        match self.peek() {
            Some('"') => self.string().map(Node::Str),
            Some('[') => self.list(),
            Some('{') => self.map(),
            Some(c) if c == '-' || c.is_ascii_digit() => Ok(Node::Number(self.word().to_owned())),
            Some(c) if c.is_alphabetic() || c == '_' => self.named(),
            _ => Err(self.error("a value")),
        }
    }

    /// A run of identifier or number characters.
    fn word(&mut self) -> &str {
        let start = self.at;
        let len = self
            .rest()
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '#' | '.' | '-' | '+')))
            .unwrap_or(self.rest().len());
        self.at += len;
        &self.text[start..self.at]
    }

    /// `None`, `Some(..)`, `true`, `false`, `NaN`, `inf`, or a message.
    fn named(&mut self) -> Result<Node, ParseError> {
        let word = self.word().to_owned();
        match word.as_str() {
            "None" => return Ok(Node::None),
            "true" => return Ok(Node::Bool(true)),
            "false" => return Ok(Node::Bool(false)),
            "NaN" | "inf" => return Ok(Node::Number(word)),
            "Some" => {
                self.expect("(")?;
                let inner = self.value()?;
                self.expect(")")?;
                return Ok(Node::Some(Box::new(inner)));
            }
            _ => {}
        }
        let mut fields = Vec::new();
        // A message without fields prints as its bare name.
        if self.eat("{") && !self.eat("}") {
            loop {
                self.skip_spaces();
                let name = self.word().trim_start_matches("r#").to_owned();
                if name.is_empty() {
                    return Err(self.error("a field name"));
                }
                self.expect(":")?;
                fields.push((name, self.value()?));
                if self.eat("}") {
                    break;
                }
                self.expect(",")?;
            }
        }
        Ok(Node::Message { name: word, fields })
    }

    fn list(&mut self) -> Result<Node, ParseError> {
        self.expect("[")?;
        let mut items = Vec::new();
        if self.eat("]") {
            return Ok(Node::List(items));
        }
        if let Some(integers) = self.integers() {
            return Ok(Node::Integers(integers));
        }
        loop {
            items.push(self.value()?);
            if self.eat("]") {
                return Ok(Node::List(items));
            }
            self.expect(",")?;
        }
    }

    /// The rest of a list if it holds only integers; else `None`, having
    /// consumed nothing.
    fn integers(&mut self) -> Option<Vec<i64>> {
        let start = self.at;
        let mut integers = Vec::new();
        loop {
            self.skip_spaces();
            match self.word().parse() {
                Ok(integer) => integers.push(integer),
                Err(_) => break,
            }
            if self.eat("]") {
                return Some(integers);
            }
            if !self.eat(",") {
                break;
            }
        }
        self.at = start;
        None
    }

    fn map(&mut self) -> Result<Node, ParseError> {
        self.expect("{")?;
        let mut entries = Vec::new();
        if self.eat("}") {
            return Ok(Node::Map(entries));
        }
        loop {
            let key = self.value()?;
            self.expect(":")?;
            entries.push((key, self.value()?));
            if self.eat("}") {
                return Ok(Node::Map(entries));
            }
            self.expect(",")?;
        }
    }

    /// A string literal with Rust's `Debug` escapes.
    fn string(&mut self) -> Result<String, ParseError> {
        self.expect("\"")?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '\\' => {
                    let escaped = match chars.next().map(|(_, e)| e) {
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('0') => '\0',
                        Some(e @ ('\\' | '"' | '\'')) => e,
                        Some('u') => unicode_escape(&mut chars).ok_or(ParseError {
                            offset: self.at + i,
                            expected: "a \\u{..} escape",
                        })?,
                        _ => {
                            return Err(ParseError {
                                offset: self.at + i,
                                expected: "an escape",
                            });
                        }
                    };
                    out.push(escaped);
                }
                c => out.push(c),
            }
        }
        Err(self.error("the end of a string"))
    }
}

/// The rest of a `\u{hex}` escape, after the `u`.
fn unicode_escape(chars: &mut std::str::CharIndices<'_>) -> Option<char> {
    if chars.next()?.1 != '{' {
        return None;
    }
    let mut code = 0u32;
    loop {
        match chars.next()?.1 {
            '}' => return char::from_u32(code),
            digit => code = code.checked_mul(16)? + digit.to_digit(16)?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(name: &str, fields: Vec<(&str, Node)>) -> Node {
        Node::Message {
            name: name.into(),
            fields: fields.into_iter().map(|(n, v)| (n.into(), v)).collect(),
        }
    }

    #[test]
    fn parses_what_prost_prints() {
        let text = r#"Pod { metadata: Some(ObjectMeta { name: Some("a \"b\"\n\u{1b}"), labels: {"k": "v"} }), r#type: None, data: [1, 2], floats: [1, 2.5], n: -3, f: 1e-7, ok: true, empty: Empty }"#;
        let expected = message(
            "Pod",
            vec![
                (
                    "metadata",
                    Node::Some(Box::new(message(
                        "ObjectMeta",
                        vec![
                            (
                                "name",
                                Node::Some(Box::new(Node::Str("a \"b\"\n\u{1b}".into()))),
                            ),
                            (
                                "labels",
                                Node::Map(vec![(Node::Str("k".into()), Node::Str("v".into()))]),
                            ),
                        ],
                    ))),
                ),
                ("type", Node::None),
                ("data", Node::Integers(vec![1, 2])),
                (
                    "floats",
                    Node::List(vec![Node::Number("1".into()), Node::Number("2.5".into())]),
                ),
                ("n", Node::Number("-3".into())),
                ("f", Node::Number("1e-7".into())),
                ("ok", Node::Bool(true)),
                ("empty", message("Empty", vec![])),
            ],
        );
        assert_eq!(parse(text).unwrap(), expected);
    }

    #[test]
    fn round_trips_strings_through_debug() {
        for s in [
            "",
            "plain",
            "quote\" back\\slash",
            "tab\tnl\ncr\r",
            "\0\u{7f}\u{200b}é😀'",
        ] {
            let text = format!("{s:?}");
            assert_eq!(parse(&text).unwrap(), Node::Str(s.into()), "{text}");
        }
    }

    #[test]
    fn malformed_text_is_an_error() {
        for text in [
            "Pod { a: ",
            "\"open",
            "[1, 2",
            "Some(1",
            "{\"k\" 1}",
            "\"\\q\"",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
    }
}
