//! What a plugin answers: a code that decides what happens to the pod
//! (go on, try later, give up on this node, wait), the reasons a user
//! reads in the `FailedScheduling` event, and the plugin that said it.

use std::fmt;

/// How a plugin's answer is acted on, as upstream's `framework.Code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// Go on.
    Success,
    /// Something went wrong that is not the pod's fault: the pod is tried
    /// again after its backoff, and no preemption is attempted.
    Error,
    /// The pod does not fit, but preemption may make it fit.
    Unschedulable,
    /// The pod does not fit and preemption on this node cannot help.
    UnschedulableAndUnresolvable,
    /// A Permit plugin holds the pod until it is allowed or times out.
    Wait,
    /// The plugin has nothing to do for this pod (PreFilter, PreScore, Bind).
    Skip,
    /// The pod waits for something outside the scheduler (e.g. a volume
    /// being bound): it is retried on events, not counted as a failure.
    Pending,
}

/// A plugin's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    code: Code,
    reasons: Vec<String>,
    plugin: Option<String>,
}

impl Status {
    /// Success, with no reasons.
    pub fn success() -> Status {
        Status::new(Code::Success, Vec::<String>::new())
    }

    /// A status of `code` with `reasons`.
    pub fn new<S: Into<String>>(code: Code, reasons: impl IntoIterator<Item = S>) -> Status {
        Status {
            code,
            reasons: reasons.into_iter().map(Into::into).collect(),
            plugin: None,
        }
    }

    /// `Unschedulable` with one reason.
    pub fn unschedulable(reason: impl Into<String>) -> Status {
        Status::new(Code::Unschedulable, [reason.into()])
    }

    /// `UnschedulableAndUnresolvable` with one reason.
    pub fn unresolvable(reason: impl Into<String>) -> Status {
        Status::new(Code::UnschedulableAndUnresolvable, [reason.into()])
    }

    /// `Error` with one reason.
    pub fn error(reason: impl Into<String>) -> Status {
        Status::new(Code::Error, [reason.into()])
    }

    /// `Skip`.
    pub fn skip() -> Status {
        Status::new(Code::Skip, Vec::<String>::new())
    }

    /// The same status, said by `plugin`.
    pub fn with_plugin(mut self, plugin: &str) -> Status {
        self.plugin = Some(plugin.to_string());
        self
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }

    /// The plugin that gave this status, once the framework has run it.
    pub fn plugin(&self) -> Option<&str> {
        self.plugin.as_deref()
    }

    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }

    pub fn is_skip(&self) -> bool {
        self.code == Code::Skip
    }

    /// Unschedulable, resolvable or not: the pod does not fit.
    pub fn is_rejected(&self) -> bool {
        matches!(
            self.code,
            Code::Unschedulable | Code::UnschedulableAndUnresolvable | Code::Pending
        )
    }

    /// The reasons joined, as upstream's `Status.Message`.
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message())
    }
}
