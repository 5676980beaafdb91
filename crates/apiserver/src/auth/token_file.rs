//! Static bearer tokens from a file (`--token-auth-file`), in upstream's
//! CSV form: `token,user,uid,"group1,group2"`, one a line. Neither the
//! tokens nor their lines appear in errors or logs.

use std::collections::HashMap;
use std::path::Path;

use super::user::User;

/// The tokens of a token file.
#[derive(Clone, Default)]
pub struct TokenFile {
    users: HashMap<String, User>,
}

impl std::fmt::Debug for TokenFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tokens are secrets: only how many there are is told.
        f.debug_struct("TokenFile")
            .field("tokens", &self.users.len())
            .finish()
    }
}

/// Why a token file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("failed to read the token file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "token file {path:?} must have at least 3 columns (token, user name, user uid), found {found} on line {line}"
    )]
    Columns {
        path: String,
        line: usize,
        found: usize,
    },
    #[error("token file {path:?} has a blank token on line {line}")]
    BlankToken { path: String, line: usize },
    #[error("token file {path:?} has an unterminated quoted field on line {line}")]
    Quote { path: String, line: usize },
}

impl TokenFile {
    /// Reads the token file at `path`.
    pub fn load(path: &Path) -> Result<Self, TokenFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text, &shown)
    }

    /// Reads a token file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Self, TokenFileError> {
        let mut users = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let fields = fields(line).ok_or_else(|| TokenFileError::Quote {
                path: path.to_string(),
                line: line_number,
            })?;
            if fields.len() < 3 {
                return Err(TokenFileError::Columns {
                    path: path.to_string(),
                    line: line_number,
                    found: fields.len(),
                });
            }
            let token = fields[0].trim().to_string();
            if token.is_empty() {
                return Err(TokenFileError::BlankToken {
                    path: path.to_string(),
                    line: line_number,
                });
            }
            let groups = fields
                .get(3)
                .map(|g| {
                    g.split(',')
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let user = User {
                name: fields[1].clone(),
                uid: fields[2].clone(),
                groups,
                ..User::default()
            };
            if users.insert(token, user).is_some() {
                tracing::warn!(
                    path,
                    line = line_number,
                    "duplicate token in the token file; the later line wins"
                );
            }
        }
        Ok(TokenFile { users })
    }

    /// The user of `token`, if the file has it.
    pub fn user(&self, token: &str) -> Option<User> {
        self.users.get(token).cloned()
    }

    /// How many tokens the file has.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the file has no token.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// The fields of one CSV line (leading spaces trimmed, `"..."` quoting
/// with `""` for a quote); `None` when a quote is not closed.
fn fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let (mut start, mut quoted) = (true, false);
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            ' ' if start => {}
            '"' if start => (start, quoted) = (false, true),
            ',' => {
                fields.push(std::mem::take(&mut field));
                start = true;
            }
            c => {
                field.push(c);
                start = false;
            }
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_users_uids_and_groups() {
        let file = TokenFile::parse(
            "t1,jane,u1,\"dev,qa\"\n\n t2, bob,u2\nt3,\"x, y\",u3,ops\n",
            "tokens.csv",
        )
        .expect("parses");
        assert_eq!(file.len(), 3);
        let jane = file.user("t1").expect("jane");
        assert_eq!((jane.name.as_str(), jane.uid.as_str()), ("jane", "u1"));
        assert_eq!(jane.groups, ["dev", "qa"]);
        assert_eq!(file.user("t2").expect("bob").name, "bob");
        assert_eq!(file.user("t3").expect("x").name, "x, y");
        assert_eq!(file.user("t3").expect("x").groups, ["ops"]);
        assert!(file.user("nope").is_none());
    }

    #[test]
    fn bad_files_are_clear_errors_without_tokens() {
        let err = TokenFile::parse("secret-token,jane\n", "f").expect_err("two columns");
        let text = err.to_string();
        assert!(text.contains("at least 3 columns"), "{text}");
        assert!(!text.contains("secret-token"), "{text}");
        let err = TokenFile::parse(",jane,u\n", "f").expect_err("blank");
        assert!(err.to_string().contains("blank token"));
        let err = TokenFile::parse("t,\"jane,u\n", "f").expect_err("quote");
        assert!(err.to_string().contains("quoted"));
        assert!(!format!("{:?}", TokenFile::parse("abc,j,u", "f")).contains("abc"));
    }
}
