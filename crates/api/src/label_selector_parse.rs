//! The lexer and parser of the label selector query-string grammar, kept
//! apart from the selector type so that each file reads on its own.
//!
//! The token rules and the error texts are those of Kubernetes' parser:
//! `in` and `notin` are keywords only where an operator is expected, values
//! may be empty (`a=`, `a in (,x)`), whitespace separates tokens.

use std::collections::BTreeSet;

use crate::label_selector::{Error, Operator, Requirement, check_parsed_key, sorted_set};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Error,
    End,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// One token with its text.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    kind: Kind,
    text: String,
}

fn keyword(text: &str) -> Option<Kind> {
    Some(match text {
        ")" => Kind::ClosedPar,
        "," => Kind::Comma,
        "!" => Kind::DoesNotExist,
        "==" => Kind::DoubleEquals,
        "=" => Kind::Equals,
        ">" => Kind::GreaterThan,
        "in" => Kind::In,
        "<" => Kind::LessThan,
        "!=" => Kind::NotEquals,
        "notin" => Kind::NotIn,
        "(" => Kind::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Splits `text` into tokens, ending with an end-of-string token.
pub(crate) fn lex(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut tokens = Vec::new();
    loop {
        while pos < bytes.len() && is_whitespace(bytes[pos]) {
            pos += 1;
        }
        let Some(&c) = bytes.get(pos) else {
            tokens.push(Token {
                kind: Kind::End,
                text: String::new(),
            });
            return tokens;
        };
        let token = if is_special(c) {
            lex_special(bytes, &mut pos)
        } else {
            lex_word(bytes, &mut pos)
        };
        tokens.push(token);
    }
}

/// The longest run of special characters that still forms an operator.
fn lex_special(bytes: &[u8], pos: &mut usize) -> Token {
    let start = *pos;
    let mut last: Option<(Kind, usize)> = None;
    while let Some(&c) = bytes.get(*pos) {
        if !is_special(c) {
            break;
        }
        let candidate = String::from_utf8_lossy(&bytes[start..=*pos]).into_owned();
        match keyword(&candidate) {
            Some(kind) => last = Some((kind, *pos + 1)),
            None if last.is_some() => break,
            None => {}
        }
        *pos += 1;
    }
    match last {
        Some((kind, end)) => {
            *pos = end;
            Token {
                kind,
                text: String::from_utf8_lossy(&bytes[start..end]).into_owned(),
            }
        }
        None => Token {
            kind: Kind::Error,
            text: format!(
                "error expected: keyword found '{}'",
                String::from_utf8_lossy(&bytes[start..*pos])
            ),
        },
    }
}

fn lex_word(bytes: &[u8], pos: &mut usize) -> Token {
    let start = *pos;
    while let Some(&c) = bytes.get(*pos) {
        if is_special(c) || is_whitespace(c) {
            break;
        }
        *pos += 1;
    }
    let text = String::from_utf8_lossy(&bytes[start..*pos]).into_owned();
    let kind = keyword(&text).unwrap_or(Kind::Identifier);
    Token { kind, text }
}

/// A recursive-descent parser over the tokens.
pub(crate) struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

/// Whether `in`/`notin` count as keywords (where an operator is expected)
/// or as plain identifiers (everywhere else).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";

fn syntax(found: &str, expected: &str) -> Error {
    Error::Syntax(format!("found '{found}', expected: {expected}"))
}

impl Parser {
    pub(crate) fn new(tokens: Vec<Token>) -> Self {
        Self {
            tokens,
            position: 0,
        }
    }

    fn token(&self, context: Context) -> (Kind, String) {
        let index = self.position.min(self.tokens.len().saturating_sub(1));
        let (mut kind, text) = self
            .tokens
            .get(index)
            .map_or((Kind::End, String::new()), |t| (t.kind, t.text.clone()));
        if context == Context::Values && matches!(kind, Kind::In | Kind::NotIn) {
            kind = Kind::Identifier;
        }
        (kind, text)
    }

    fn lookahead(&self, context: Context) -> (Kind, String) {
        self.token(context)
    }

    fn consume(&mut self, context: Context) -> (Kind, String) {
        let token = self.token(context);
        self.position += 1;
        token
    }

    pub(crate) fn parse(mut self) -> Result<Vec<Requirement>, Error> {
        let mut requirements = Vec::new();
        loop {
            let (kind, text) = self.lookahead(Context::Values);
            match kind {
                Kind::Identifier | Kind::DoesNotExist => {
                    let requirement = self
                        .parse_requirement()
                        .map_err(|e| Error::Syntax(format!("unable to parse requirement: {e}")))?;
                    requirements.push(requirement);
                    let (after, after_text) = self.consume(Context::Values);
                    match after {
                        Kind::End => return Ok(requirements),
                        Kind::Comma => {
                            let (next, next_text) = self.lookahead(Context::Values);
                            if next != Kind::Identifier && next != Kind::DoesNotExist {
                                return Err(syntax(&next_text, "identifier after ','"));
                            }
                        }
                        _ => return Err(syntax(&after_text, "',' or 'end of string'")),
                    }
                }
                Kind::End => return Ok(requirements),
                _ => return Err(syntax(&text, "!, identifier, or 'end of string'")),
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, Error> {
        let (key, operator) = self.parse_key_and_infer_operator()?;
        if let Some(operator @ (Operator::Exists | Operator::DoesNotExist)) = operator {
            return Requirement::new(&key, operator, Vec::new());
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::new(&key, operator, sorted_set(values))
    }

    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), Error> {
        let mut operator = None;
        let (mut kind, mut text) = self.consume(Context::Values);
        if kind == Kind::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (kind, text) = self.consume(Context::Values);
        }
        if kind != Kind::Identifier {
            return Err(syntax(&text, "identifier"));
        }
        check_parsed_key(&text)?;
        let (next, _) = self.lookahead(Context::Values);
        if matches!(next, Kind::End | Kind::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((text, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, Error> {
        let (kind, text) = self.consume(Context::KeyAndOperator);
        Ok(match kind {
            Kind::In => Operator::In,
            Kind::Equals => Operator::Equals,
            Kind::DoubleEquals => Operator::DoubleEquals,
            Kind::GreaterThan => Operator::GreaterThan,
            Kind::LessThan => Operator::LessThan,
            Kind::NotIn => Operator::NotIn,
            Kind::NotEquals => Operator::NotEquals,
            _ => return Err(syntax(&text, BINARY_OPERATORS)),
        })
    }

    fn parse_values(&mut self) -> Result<BTreeSet<String>, Error> {
        let (kind, text) = self.consume(Context::Values);
        if kind != Kind::OpenPar {
            return Err(Error::Syntax(format!("found '{text}' expected: '('")));
        }
        let (kind, text) = self.lookahead(Context::Values);
        match kind {
            Kind::Identifier | Kind::Comma => {
                let values = self.parse_identifiers()?;
                if self.consume(Context::Values).0 != Kind::ClosedPar {
                    return Err(syntax(&text, "')'"));
                }
                Ok(values)
            }
            Kind::ClosedPar => {
                self.consume(Context::Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(syntax(&text, "',', ')' or identifier")),
        }
    }

    fn parse_identifiers(&mut self) -> Result<BTreeSet<String>, Error> {
        let mut values = BTreeSet::new();
        loop {
            let (kind, text) = self.consume(Context::Values);
            match kind {
                Kind::Identifier => {
                    values.insert(text);
                    let (next, next_text) = self.lookahead(Context::Values);
                    match next {
                        Kind::Comma => continue,
                        Kind::ClosedPar => return Ok(values),
                        _ => return Err(syntax(&next_text, "',' or ')'")),
                    }
                }
                Kind::Comma => {
                    // An empty value sits before, between or after commas.
                    if values.is_empty() {
                        values.insert(String::new());
                    }
                    match self.lookahead(Context::Values).0 {
                        Kind::ClosedPar => {
                            values.insert(String::new());
                            return Ok(values);
                        }
                        Kind::Comma => {
                            self.consume(Context::Values);
                            values.insert(String::new());
                        }
                        _ => {}
                    }
                }
                _ => return Err(syntax(&text, "',', or identifier")),
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<BTreeSet<String>, Error> {
        let (kind, _) = self.lookahead(Context::Values);
        if matches!(kind, Kind::End | Kind::Comma) {
            return Ok(BTreeSet::from([String::new()]));
        }
        let (kind, text) = self.consume(Context::Values);
        if kind == Kind::Identifier {
            return Ok(BTreeSet::from([text]));
        }
        Err(syntax(&text, "identifier"))
    }
}
