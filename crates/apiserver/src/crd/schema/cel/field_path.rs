//! The `fieldPath` of a validation rule: a JSON path of fields and map
//! keys (`.spec.ports['http']`) that must lead somewhere in the schema.

use crate::crd::schema::Node;

/// The path `json_path` names below `node`, rendered as field paths are
/// (`spec.ports[http]`), or why it names nothing (upstream's words).
pub(crate) fn field_path(json_path: &str, node: &Node) -> Result<String, String> {
    let tokens = tokens(json_path);
    let mut tokens = tokens.iter().map(String::as_str);
    let mut rendered = String::new();
    let mut node = node;
    while let Some(token) = tokens.next() {
        match token {
            "[" => {
                let quoted = tokens.next().ok_or("unexpected end of JSON path")?;
                let name = unquote(quoted)?;
                node = step(node, &name, &mut rendered, true)?;
                match tokens.next() {
                    Some("]") => {}
                    Some(other) => return Err(format!("expected ] but got {other}")),
                    None => return Err("unexpected end of JSON path".into()),
                }
            }
            "." => {
                let name = tokens.next().ok_or("unexpected end of JSON path")?;
                node = step(node, name, &mut rendered, false)?;
            }
            other => return Err(format!("expected [ or . but got: {other}")),
        }
    }
    Ok(rendered)
}

/// One step down: a property (`.name`) or a key of a map (`[name]`).
fn step<'a>(
    node: &'a Node,
    name: &str,
    rendered: &mut String,
    bracket: bool,
) -> Result<&'a Node, String> {
    if !node.properties.is_empty() {
        let next = node
            .properties
            .get(name)
            .ok_or("does not refer to a valid field")?;
        if !rendered.is_empty() {
            rendered.push('.');
        }
        rendered.push_str(name);
        Ok(next)
    } else if node.additional_properties.is_some() {
        let _ = bracket;
        rendered.push_str(&format!("[{name}]"));
        node.additional_schema()
            .ok_or_else(|| "does not refer to a valid field".to_string())
    } else {
        Err("does not refer to a valid field".into())
    }
}

/// Splits on `.`, `[` and `]`, keeping single-quoted strings whole.
fn tokens(path: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut previous = '\0';
    for c in path.chars() {
        if quoted {
            current.push(c);
            if c == '\'' && previous != '\\' {
                quoted = false;
                tokens.push(std::mem::take(&mut current));
            }
        } else if c == '\'' && current.is_empty() {
            quoted = true;
            current.push(c);
        } else if matches!(c, '.' | '[' | ']') {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            tokens.push(c.to_string());
        } else {
            current.push(c);
        }
        previous = c;
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn unquote(token: &str) -> Result<String, String> {
    let inner = token
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .filter(|_| token.len() >= 2)
        .ok_or_else(|| format!("expected single quoted string but got {token}"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(c @ ('\'' | '\\')) => out.push(c),
            Some(other) => {
                return Err(format!(
                    "invalid string literal: invalid escape char \\{other}"
                ));
            }
            None => return Err("invalid string literal: invalid escape char \\".into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::crd::schema::test_support::props;

    #[test]
    fn follows_fields_and_map_keys() {
        let node = Node::of(&props(json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {
                    "ports": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "a.b": {"type": "string"}}}
            }
        })));
        let cases = [
            (".spec", Ok("spec".to_string())),
            (".spec.ports['http']", Ok("spec.ports[http]".to_string())),
            (".spec['a.b']", Ok("spec.a.b".to_string())),
            (
                ".spec.nope",
                Err("does not refer to a valid field".to_string()),
            ),
            ("spec", Err("expected [ or . but got: spec".to_string())),
            (
                ".spec[ports",
                Err("expected single quoted string but got ports".to_string()),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(field_path(path, &node), want, "{path}");
        }
    }
}
