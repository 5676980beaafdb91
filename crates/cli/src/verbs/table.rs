//! kubectl's human-readable output of a server-side `meta.k8s.io/v1`
//! Table: upper-case headers, the `-o wide` columns (priority > 0) only
//! when asked, a NAMESPACE column with `-A`, `kind.group/name` names when
//! several types print together, and columns aligned as kubectl's
//! tabwriter does (3 spaces of padding, at least 6 wide).

use serde_json::Value;

/// How kubectl decorates a table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style<'a> {
    /// `-o wide`: also the columns of priority > 0.
    pub wide: bool,
    /// `-A`: a NAMESPACE column first.
    pub namespace_column: bool,
    /// Several types print together: names read `deployment.apps/web`.
    pub kind_prefix: Option<&'a str>,
}

/// The header and rows of `table` as text cells.
pub fn cells(table: &Value, style: Style) -> (Vec<String>, Vec<Vec<String>>) {
    let columns = table["columnDefinitions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let shown: Vec<usize> = (0..columns.len())
        .filter(|&i| style.wide || columns[i]["priority"].as_i64().unwrap_or(0) == 0)
        .collect();
    let name_column = columns.iter().position(|c| c["format"] == "name");
    let mut header: Vec<String> = shown
        .iter()
        .map(|&i| columns[i]["name"].as_str().unwrap_or("").to_uppercase())
        .collect();
    if style.namespace_column {
        header.insert(0, "NAMESPACE".to_string());
    }
    let rows = table["rows"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let rows = rows
        .iter()
        .map(|row| {
            let mut line: Vec<String> = shown
                .iter()
                .map(|&i| {
                    let text = cell_text(&row["cells"][i]);
                    match style.kind_prefix {
                        Some(kind) if Some(i) == name_column => format!("{kind}/{text}"),
                        _ => text,
                    }
                })
                .collect();
            if style.namespace_column {
                let namespace = row["object"]["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("");
                line.insert(0, namespace.to_string());
            }
            line
        })
        .collect();
    (header, rows)
}

/// A cell as kubectl prints it: strings cut at the first line break
/// (with `...`), other values as they read, null as nothing.
fn cell_text(cell: &Value) -> String {
    match cell {
        Value::Null => String::new(),
        Value::String(text) => match text.find(['\n', '\r', '\x0c']) {
            Some(end) => format!("{}...", &text[..end]),
            None => text.clone(),
        },
        other => other.to_string(),
    }
}

/// Aligns lines of cells as kubectl's tabwriter: every column but the
/// last padded to its widest cell plus 3 spaces, and to at least 6.
pub fn align(lines: &[Vec<String>]) -> String {
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            let widest = lines
                .iter()
                .filter_map(|line| line.get(i))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0);
            (widest + 3).max(6)
        })
        .collect();
    let mut text = String::new();
    for line in lines {
        for (i, cell) in line.iter().enumerate() {
            if i + 1 == line.len() {
                text.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count());
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployments() -> Value {
        json!({
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "columnDefinitions": [
                {"name": "Name", "type": "string", "format": "name", "priority": 0},
                {"name": "Ready", "type": "string", "format": "", "priority": 0},
                {"name": "Up-to-date", "type": "integer", "format": "", "priority": 0},
                {"name": "Age", "type": "string", "format": "", "priority": 0},
                {"name": "Containers", "type": "string", "format": "", "priority": 1},
            ],
            "rows": [
                {"cells": ["web", "0/2", 0, "5s", "nginx"],
                 "object": {"metadata": {"name": "web", "namespace": "shop"}}},
                {"cells": ["api-server", "1/1", 1, "3d", "a\nb"],
                 "object": {"metadata": {"name": "api-server", "namespace": "default"}}},
            ],
        })
    }

    fn render(style: Style) -> String {
        let (header, rows) = cells(&deployments(), style);
        let mut lines = vec![header];
        lines.extend(rows);
        align(&lines)
    }

    #[test]
    fn default_output_hides_wide_columns() {
        assert_eq!(
            render(Style::default()),
            "NAME         READY   UP-TO-DATE   AGE\n\
             web          0/2     0            5s\n\
             api-server   1/1     1            3d\n"
        );
    }

    #[test]
    fn wide_output_with_namespaces_and_kinds() {
        let style = Style {
            wide: true,
            namespace_column: true,
            kind_prefix: Some("deployment.apps"),
        };
        assert_eq!(
            render(style),
            "NAMESPACE   NAME                         READY   UP-TO-DATE   AGE   CONTAINERS\n\
             shop        deployment.apps/web          0/2     0            5s    nginx\n\
             default     deployment.apps/api-server   1/1     1            3d    a...\n"
        );
    }
}
