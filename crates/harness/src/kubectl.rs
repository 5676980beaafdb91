//! The real kubectl, and any other short command, run to the end with a
//! timeout: the outcome is a [`Run`] that a failed assertion prints whole.
//!
//! [`Kubectl`] points kubectl at one cluster's kubeconfig with a HOME and a
//! discovery cache of its own, so that nothing of the user's (or another
//! test's) kubectl state leaks in. kubectl is a required tool: when it is
//! missing, [`spawn`] says how to install it; tests never skip.
//!
//! These helpers block (pipes are read on threads): they are for tests that
//! run kubectl the way a user does, one command after the other.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long one command (other than a watch) may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

const KUBECTL_HINT: &str = ": these end-to-end tests need the real kubectl (they never skip). \
    Install it, e.g. `apt-get install kubectl` from the Kubernetes apt repository \
    (https://pkgs.k8s.io), `gcloud components install kubectl`, or \
    `curl -LO https://dl.k8s.io/release/v1.33.0/bin/linux/amd64/kubectl \
    && install kubectl /usr/local/bin/`";

/// Why a command could not be run to the end.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The program is not on PATH.
    #[error("{program} is not on PATH{}", install_hint(.program))]
    NotFound { program: String },

    /// The command ran longer than its timeout (it was killed).
    #[error("`{command}` did not finish within {timeout:?}\nstdout:\n{stdout}\nstderr:\n{stderr}")]
    TimedOut {
        command: String,
        timeout: Duration,
        stdout: String,
        stderr: String,
    },

    /// Starting or waiting for the command, or preparing its directories,
    /// failed.
    #[error("failed to {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
}

fn install_hint(program: &str) -> &'static str {
    if program == "kubectl" {
        KUBECTL_HINT
    } else {
        ""
    }
}

/// The arguments of one command: a line is split on whitespace (for lines
/// whose arguments contain none), a list of arguments is taken as it is.
pub trait Args {
    /// The arguments, one string each.
    fn to_args(&self) -> Vec<String>;
}

impl Args for str {
    fn to_args(&self) -> Vec<String> {
        self.split_whitespace().map(String::from).collect()
    }
}

impl Args for String {
    fn to_args(&self) -> Vec<String> {
        self.as_str().to_args()
    }
}

impl Args for [&str] {
    fn to_args(&self) -> Vec<String> {
        self.iter().map(|arg| arg.to_string()).collect()
    }
}

impl<const N: usize> Args for [&str; N] {
    fn to_args(&self) -> Vec<String> {
        self.as_slice().to_args()
    }
}

/// The outcome of one command, printed in full by failed assertions.
#[derive(Debug)]
pub struct Run {
    /// The command as a user would type it, e.g. `kubectl get pods`.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command: {}\nexit: {}\nstdout:\n{}\nstderr:\n{}",
            self.command, self.status, self.stdout, self.stderr
        )
    }
}

/// kubectl for one cluster, with its own HOME and discovery cache.
#[derive(Clone, Debug)]
pub struct Kubectl {
    kubeconfig: PathBuf,
    home: PathBuf,
    cache_dir: PathBuf,
    timeout: Duration,
}

impl Kubectl {
    /// kubectl for the cluster of `kubeconfig`, with HOME `dir/home` and
    /// discovery cache `dir/cache` (both created).
    pub fn new(kubeconfig: impl Into<PathBuf>, dir: &Path) -> Result<Self, CommandError> {
        let kubectl = Self {
            kubeconfig: kubeconfig.into(),
            home: dir.join("home"),
            cache_dir: dir.join("cache"),
            timeout: DEFAULT_TIMEOUT,
        };
        for dir in [&kubectl.home, &kubectl.cache_dir] {
            std::fs::create_dir_all(dir).map_err(|source| CommandError::Io {
                action: format!("create {}", dir.display()),
                source,
            })?;
        }
        Ok(kubectl)
    }

    /// How long [`Kubectl::run`] lets one command take (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The kubeconfig kubectl is pointed at.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// `kubectl ARGS` with no stdin and piped output, to [`spawn`] for a
    /// command that runs on (a watch) or to [`run`].
    pub fn command(&self, args: &(impl Args + ?Sized)) -> Command {
        let mut command = Command::new("kubectl");
        command
            .env("HOME", &self.home)
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache_dir)
            .args(args.to_args());
        piped(&mut command);
        command
    }

    /// Runs `kubectl ARGS` to the end (killing it after the timeout).
    pub fn run(&self, args: &(impl Args + ?Sized)) -> Result<Run, CommandError> {
        let label = format!("kubectl {}", args.to_args().join(" "));
        run(label, self.command(args), self.timeout)
    }
}

fn piped(command: &mut Command) {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
}

/// Starts `command`; a program missing from PATH is
/// [`CommandError::NotFound`] (for kubectl, with install instructions).
pub fn spawn(mut command: Command) -> Result<Child, CommandError> {
    command.spawn().map_err(|source| {
        let program = command.get_program().to_string_lossy().into_owned();
        match source.kind() {
            std::io::ErrorKind::NotFound => CommandError::NotFound { program },
            _ => CommandError::Io {
                action: format!("start {program}"),
                source,
            },
        }
    })
}

/// Runs `command` (with no stdin, its output captured) to the end, or kills
/// it after `timeout`; `label` names it in the [`Run`] and in errors.
pub fn run(
    label: impl Into<String>,
    mut command: Command,
    timeout: Duration,
) -> Result<Run, CommandError> {
    let label = label.into();
    piped(&mut command);
    let mut child = spawn(command)?;
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let collect = |pipe: Option<thread::JoinHandle<String>>| {
        pipe.and_then(|reader| reader.join().ok())
            .unwrap_or_default()
    };
    let waited = wait(&mut child, timeout).map_err(|source| CommandError::Io {
        action: format!("wait for `{label}`"),
        source,
    });
    let status = match waited {
        Ok(Some(status)) => status,
        Ok(None) => {
            return Err(CommandError::TimedOut {
                command: label,
                timeout,
                stdout: collect(stdout),
                stderr: collect(stderr),
            });
        }
        Err(err) => return Err(err),
    };
    Ok(Run {
        command: label,
        status,
        stdout: collect(stdout),
        stderr: collect(stderr),
    })
}

/// The exit status, or `None` (after killing it) when `timeout` passed.
fn wait(child: &mut Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() > deadline {
            // Fails only when the child has just exited, which is as good.
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Reads a pipe to its end on a thread.
pub fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        // A read error ends the output early; what was read is kept.
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn a_run_keeps_the_exit_status_and_both_outputs() {
        let run =
            run("sh", sh("echo out; echo err >&2; exit 4"), DEFAULT_TIMEOUT).expect("sh runs");
        assert_eq!(run.status.code(), Some(4), "{run}");
        assert_eq!(
            (run.stdout.as_str(), run.stderr.as_str()),
            ("out\n", "err\n")
        );
    }

    #[test]
    fn a_command_past_its_timeout_is_killed_with_what_it_printed() {
        let err = run(
            "sleepy",
            sh("echo started; exec sleep 30"),
            Duration::from_millis(300),
        )
        .expect_err("times out");
        let CommandError::TimedOut { stdout, .. } = &err else {
            panic!("expected a timeout, got {err}");
        };
        assert_eq!(stdout, "started\n");
    }

    #[test]
    fn a_missing_kubectl_says_how_to_install_it() {
        let err = CommandError::NotFound {
            program: "kubectl".into(),
        };
        assert!(
            err.to_string()
                .starts_with("kubectl is not on PATH: these end-to-end tests")
        );
        let other = CommandError::NotFound {
            program: "kubeletx".into(),
        };
        assert_eq!(other.to_string(), "kubeletx is not on PATH");
    }

    #[test]
    fn lines_split_on_whitespace_and_lists_stay_whole() {
        assert_eq!("get  pods -A".to_args(), ["get", "pods", "-A"]);
        assert_eq!(["-p", "{\"a\": 1}"].to_args(), ["-p", "{\"a\": 1}"]);
    }
}
