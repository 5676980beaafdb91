//! The JSONPath of printer columns (`.spec.replicas`,
//! `.status.conditions[?(@.type=="Ready")].status`, `.spec.ports[*].port`,
//! `.metadata.labels['app\.kubernetes\.io/name']`): the part of
//! Kubernetes' JSONPath dialect that columns use, evaluated relative to
//! the object. Written here because Kubernetes' dialect (a leading `.`,
//! `[?(@.x=="v")]` filters, backslash-escaped dots in quoted keys) is not
//! the RFC 9535 syntax JSONPath crates read. A path that does not parse
//! finds nothing, as a cell then shows nothing.

use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// A field of an object.
    Field(String),
    /// An element of a list (negative from the end).
    Index(i64),
    /// Every element of a list or value of an object.
    All,
    /// The elements of a list whose `field` (a dotted path) equals `value`.
    Filter(Vec<String>, Value),
}

/// The values `path` finds in `object`.
pub fn find<'a>(object: &'a Value, path: &str) -> Vec<&'a Value> {
    let Some(steps) = parse(path) else {
        return Vec::new();
    };
    let mut found = vec![object];
    for step in &steps {
        found = found
            .into_iter()
            .flat_map(|value| apply(value, step))
            .collect();
    }
    found
}

fn apply<'a>(value: &'a Value, step: &Step) -> Vec<&'a Value> {
    match (step, value) {
        (Step::Field(name), Value::Object(map)) => map.get(name).into_iter().collect(),
        (Step::Index(index), Value::Array(list)) => {
            let at = match *index < 0 {
                true => list.len() as i64 + index,
                false => *index,
            };
            usize::try_from(at)
                .ok()
                .and_then(|at| list.get(at))
                .into_iter()
                .collect()
        }
        (Step::All, Value::Array(list)) => list.iter().collect(),
        (Step::All, Value::Object(map)) => map.values().collect(),
        (Step::Filter(field, wanted), Value::Array(list)) => list
            .iter()
            .filter(|item| {
                let mut at = Some(*item);
                for part in field {
                    at = at.and_then(|v| v.get(part));
                }
                at == Some(wanted)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The steps of a path; `None` when it does not parse.
fn parse(path: &str) -> Option<Vec<Step>> {
    let path = path.trim();
    let path = path
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(path);
    let path = path.strip_prefix('$').unwrap_or(path);
    let chars: Vec<char> = path.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                match name.as_str() {
                    "" => return None,
                    "*" => steps.push(Step::All),
                    _ => steps.push(Step::Field(name)),
                }
            }
            '[' => {
                let end = closing(&chars, i)?;
                let inner: String = chars[i + 1..end].iter().collect();
                steps.push(bracket(inner.trim())?);
                i = end + 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// The index of the `]` that closes the `[` at `open`, past quotes.
fn closing(chars: &[char], open: usize) -> Option<usize> {
    let mut quote = None;
    let mut i = open + 1;
    while i < chars.len() {
        match (quote, chars[i]) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), '\\') => i += 1,
            (None, '\'' | '"') => quote = Some(chars[i]),
            (None, ']') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn bracket(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::All);
    }
    if let Some(quoted) = unquote(inner) {
        return Some(Step::Field(quoted.replace("\\.", ".")));
    }
    if let Ok(index) = inner.parse::<i64>() {
        return Some(Step::Index(index));
    }
    let filter = inner.strip_prefix("?(")?.strip_suffix(')')?.trim();
    let (left, right) = filter.split_once("==")?;
    let field = left.trim().strip_prefix("@.")?;
    let right = right.trim();
    let wanted = match unquote(right) {
        Some(text) => Value::from(text),
        None => serde_json::from_str(right).ok()?,
    };
    Some(Step::Filter(
        field.split('.').map(str::to_string).collect(),
        wanted,
    ))
}

fn unquote(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    Some(inner.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_find_what_columns_show() {
        let object = json!({
            "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
            "spec": {"replicas": 3, "ports": [{"port": 80}, {"port": 443}]},
            "status": {"conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "Synced", "status": "False"}
            ]}
        });
        let cases: &[(&str, Vec<Value>)] = &[
            (".spec.replicas", vec![json!(3)]),
            ("{.spec.replicas}", vec![json!(3)]),
            (".spec.ports[*].port", vec![json!(80), json!(443)]),
            (".spec.ports[-1].port", vec![json!(443)]),
            (".spec.ports[1].port", vec![json!(443)]),
            (
                r#".status.conditions[?(@.type=="Ready")].status"#,
                vec![json!("True")],
            ),
            (
                ".status.conditions[?(@.type=='Synced')].status",
                vec![json!("False")],
            ),
            (
                r".metadata.labels['app\.kubernetes\.io/name']",
                vec![json!("web")],
            ),
            (".spec.missing", vec![]),
            (".spec.replicas.deeper", vec![]),
            ("spec", vec![]),
            (".spec[", vec![]),
        ];
        for (path, expected) in cases {
            let found: Vec<Value> = find(&object, path).into_iter().cloned().collect();
            assert_eq!(&found, expected, "{path}");
        }
    }
}
