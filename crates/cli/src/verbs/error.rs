//! How the verbs fail, and how a failure reads on stderr: kubectl's
//! `Error from server (Reason): message` for a `Status` from the server,
//! `error: ...` for everything else, and exit code 1 either way.

use kube::core::Status;

/// A failure of a verb.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with a failure `Status`; `context` (such as
    /// `error when creating "web.yaml"`) goes before its message.
    #[error("{}", server_line(.status, .context.as_deref()))]
    Server {
        status: Box<Status>,
        context: Option<String>,
    },
    /// The command line or a manifest asks for something impossible.
    #[error("error: {0}")]
    Usage(String),
    /// The server could not be reached, or answered something unreadable.
    #[error("error: {0}")]
    Client(String),
    /// A message printed as it is (kubectl's "The connection to the
    /// server ... was refused").
    #[error("{0}")]
    Plain(String),
    /// The failures were already printed; only the exit code is left.
    #[error("")]
    Reported,
}

impl Error {
    /// A usage error with this message.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    /// Whether the server said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Server { status, .. } if status.code == 404)
    }

    /// The same error with `context` before the server's message.
    pub fn context(self, context: impl Into<String>) -> Self {
        match self {
            Self::Server { status, .. } => Self::Server {
                status,
                context: Some(context.into()),
            },
            other => other,
        }
    }
}

impl From<kube::Error> for Error {
    fn from(err: kube::Error) -> Self {
        match err {
            kube::Error::Api(status) => Self::Server {
                status,
                context: None,
            },
            other => Self::Client(error_chain(&other)),
        }
    }
}

/// `err` and its sources, joined as Go's wrapped errors read.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn server_line(status: &Status, context: Option<&str>) -> String {
    let reason = if status.reason.is_empty() {
        String::new()
    } else {
        format!(" ({})", status.reason)
    };
    match context {
        Some(context) => format!("Error from server{reason}: {context}: {}", status.message),
        None => format!("Error from server{reason}: {}", status.message),
    }
}

/// Prints a failure as kubectl does and ends the process: exit code 0 on
/// success, 1 on any failure.
pub fn exit(result: Result<(), Error>) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match result {
        Ok(()) => std::process::exit(0),
        Err(Error::Reported) => std::process::exit(1),
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(reason: &str, message: &str, code: u16) -> Box<Status> {
        Box::new(Status {
            reason: reason.into(),
            message: message.into(),
            code,
            ..Status::default()
        })
    }

    #[test]
    fn server_errors_read_like_kubectl() {
        let err = Error::from(kube::Error::Api(status(
            "NotFound",
            r#"deployments.apps "x" not found"#,
            404,
        )));
        assert!(err.is_not_found());
        assert_eq!(
            err.to_string(),
            r#"Error from server (NotFound): deployments.apps "x" not found"#
        );
        let err = err.context(r#"error when deleting "app.yaml""#);
        assert_eq!(
            err.to_string(),
            r#"Error from server (NotFound): error when deleting "app.yaml": deployments.apps "x" not found"#
        );
        let bare = Error::from(kube::Error::Api(status("", "boom", 500)));
        assert_eq!(bare.to_string(), "Error from server: boom");
    }
}
