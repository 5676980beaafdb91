//! One child process under the harness's control, the part every launcher
//! shares: started with its output appended to a log file and its pid in a
//! pid file, polled until a probe says it is ready, stopped with SIGTERM
//! (SIGKILL after a grace period) or killed, and always killed when dropped,
//! with the end of its log printed when that happens during a panic, so a
//! failed test shows what the process said.
//!
//! A child may run in a process group of its own; then every signal goes to
//! the whole group, so what the child started goes down with it. By default
//! it stays in ours, so that Ctrl-C in a terminal reaches it too.
//!
//! Signals go through `nix`: std can only send SIGKILL, and unsafe code is
//! forbidden in this workspace.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// How often a launcher asks a child whether it is ready or gone.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How much of the log an error message quotes.
const ERROR_TAIL_BYTES: u64 = 4096;
/// How much of the log is printed when a handle is dropped during a panic.
const PANIC_TAIL_BYTES: u64 = 64 * 1024;
/// How many times a start that lost its port to another process is tried.
const START_ATTEMPTS: u32 = 3;

/// Why a child process could not be started, readied or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The process exited before it was ready.
    #[error("{name} exited during startup ({status}); log {log}:\n{tail}")]
    Exited {
        /// What the process is, e.g. "etcd" or "keelson up".
        name: String,
        status: ExitStatus,
        /// The log file's path.
        log: String,
        /// The end of the log.
        tail: String,
    },

    /// The process did not pass its readiness probe in time (it was killed).
    #[error("{name} did not become ready within {timeout:?}; log {log}:\n{tail}")]
    NotReady {
        name: String,
        timeout: Duration,
        log: String,
        tail: String,
    },

    /// The process did not exit within the grace period after SIGTERM (it
    /// was killed).
    #[error("{name} did not stop within {grace:?} of SIGTERM and was killed; log {log}:\n{tail}")]
    DidNotStop {
        name: String,
        grace: Duration,
        log: String,
        tail: String,
    },

    /// The process was asked to stop but does not run.
    #[error("{name} is not running")]
    NotRunning { name: String },

    /// Starting, signalling or waiting for the process, or preparing its
    /// files, failed.
    #[error("failed to {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
}

/// Wraps an I/O error with what was being done.
pub(crate) fn io_error(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> ProcessError {
    let action = action.into();
    move |source| ProcessError::Io { action, source }
}

/// How a [`Supervised::terminate`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stopped {
    /// Nothing ran.
    NotRunning,
    /// The process exited after SIGTERM.
    Exited(ExitStatus),
    /// The grace period passed and the process was killed.
    Killed,
}

/// Where a child's output and pid go, and the child while it runs.
#[derive(Debug)]
pub(crate) struct Supervised {
    name: String,
    log_file: PathBuf,
    pid_file: PathBuf,
    own_group: bool,
    child: Option<Child>,
}

impl Supervised {
    /// A process named `name` (for messages), not started yet.
    pub(crate) fn new(
        name: impl Into<String>,
        log_file: PathBuf,
        pid_file: PathBuf,
        own_group: bool,
    ) -> Self {
        Self {
            name: name.into(),
            log_file,
            pid_file,
            own_group,
            child: None,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn log_file(&self) -> &Path {
        &self.log_file
    }

    pub(crate) fn pid_file(&self) -> &Path {
        &self.pid_file
    }

    /// The process id while the child runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The whole log so far (empty if it cannot be read).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }

    /// Spawns `command` and waits until `ready` answers true, or fails if
    /// the child exits first or `timeout` passes; a child that did not get
    /// ready is killed, never left behind.
    pub(crate) async fn start<F>(
        &mut self,
        command: Command,
        timeout: Duration,
        ready: impl FnMut() -> F,
    ) -> Result<(), ProcessError>
    where
        F: Future<Output = bool>,
    {
        let started = match self.spawn(command) {
            Ok(()) => self.wait_ready(timeout, ready).await,
            Err(err) => Err(err),
        };
        if started.is_err() {
            let _ = self.kill();
        }
        started
    }

    fn spawn(&mut self, mut command: Command) -> Result<(), ProcessError> {
        let open_log = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log_file)
                .map_err(io_error(format!("open {}", self.log_file.display())))
        };
        command
            .stdin(Stdio::null())
            .stdout(open_log()?)
            .stderr(open_log()?);
        if self.own_group {
            command.process_group(0);
        }
        let program = command.get_program().to_os_string();
        let child = command
            .spawn()
            .map_err(io_error(format!("start {}", display(&program))))?;
        let pid = child.id();
        self.child = Some(child);
        std::fs::write(&self.pid_file, format!("{pid}\n"))
            .map_err(io_error(format!("write {}", self.pid_file.display())))
    }

    async fn wait_ready<F>(
        &mut self,
        timeout: Duration,
        mut ready: impl FnMut() -> F,
    ) -> Result<(), ProcessError>
    where
        F: Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status()? {
                return Err(ProcessError::Exited {
                    name: self.name.clone(),
                    status,
                    log: self.log_file.display().to_string(),
                    tail: log_tail(&self.log_file, ERROR_TAIL_BYTES),
                });
            }
            if ready().await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ProcessError::NotReady {
                    name: self.name.clone(),
                    timeout,
                    log: self.log_file.display().to_string(),
                    tail: log_tail(&self.log_file, ERROR_TAIL_BYTES),
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// True while the child has not exited.
    pub(crate) fn is_running(&mut self) -> bool {
        self.child.is_some() && matches!(self.exit_status(), Ok(None))
    }

    /// The child's exit status once it has exited (it is then reaped and its
    /// pid file removed); `None` while it runs or when none runs.
    fn exit_status(&mut self) -> Result<Option<ExitStatus>, ProcessError> {
        let Some(child) = self.child.as_mut() else {
            return Ok(None);
        };
        let status = child
            .try_wait()
            .map_err(io_error(format!("check whether {} runs", self.name)))?;
        if status.is_some() {
            self.reaped();
        }
        Ok(status)
    }

    fn reaped(&mut self) {
        self.child = None;
        // Gone already if someone cleaned up; nothing else can go wrong here
        // that a caller could act on.
        let _ = std::fs::remove_file(&self.pid_file);
    }

    /// Sends `signal` to the child (to its whole group if it has its own).
    pub(crate) fn signal(&self, signal: Signal) -> Result<(), ProcessError> {
        let Some(child) = &self.child else {
            return Ok(());
        };
        let pid = Pid::from_raw(i32::try_from(child.id()).expect("Linux pids fit in an i32"));
        let sent = if self.own_group {
            killpg(pid, signal)
        } else {
            kill(pid, signal)
        };
        match sent {
            // The child is not reaped yet, so the pid is still ours; a group
            // whose members have all exited is no error.
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(errno) => Err(io_error(format!("send {signal} to {}", self.name))(
                errno.into(),
            )),
        }
    }

    /// Kills the child with SIGKILL (a crash: nothing is flushed) and waits
    /// for it to exit. A no-op when it does not run.
    pub(crate) fn kill(&mut self) -> Result<(), ProcessError> {
        if self.child.is_none() {
            return Ok(());
        }
        self.signal(Signal::SIGKILL)?;
        if let Some(child) = self.child.as_mut() {
            child
                .wait()
                .map_err(io_error(format!("wait for {} to exit", self.name)))?;
        }
        self.reaped();
        Ok(())
    }

    /// Sends SIGTERM and waits up to `grace` for the child to exit, then
    /// kills it.
    pub(crate) async fn terminate(&mut self, grace: Duration) -> Result<Stopped, ProcessError> {
        if self.child.is_none() {
            return Ok(Stopped::NotRunning);
        }
        self.signal(Signal::SIGTERM)?;
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = self.exit_status()? {
                return Ok(Stopped::Exited(status));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        self.kill()?;
        Ok(Stopped::Killed)
    }

    /// The error for a child that outlived its grace period.
    pub(crate) fn did_not_stop(&self, grace: Duration) -> ProcessError {
        ProcessError::DidNotStop {
            name: self.name.clone(),
            grace,
            log: self.log_file.display().to_string(),
            tail: log_tail(&self.log_file, ERROR_TAIL_BYTES),
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Err(err) = self.kill() {
            tracing::warn!(%err, "failed to kill {}", self.name);
        }
        if std::thread::panicking() && self.log_file.exists() {
            eprintln!(
                "--- {} log {} ---\n{}",
                self.name,
                self.log_file.display(),
                log_tail(&self.log_file, PANIC_TAIL_BYTES)
            );
        }
    }
}

/// Runs `start` again (it picks fresh free ports each time), up to three
/// times in all, while it fails only because another process took a port
/// between our probe and the child's bind.
pub(crate) async fn retry_port_races(
    mut start: impl AsyncFnMut() -> Result<(), ProcessError>,
) -> Result<(), ProcessError> {
    let mut attempt = 1;
    loop {
        match start().await {
            Err(err) if attempt < START_ATTEMPTS && lost_port_race(&err) => attempt += 1,
            other => return other,
        }
    }
}

/// Whether a child exited at startup because its address was taken (Go's
/// and Rust's messages differ only in case).
fn lost_port_race(err: &ProcessError) -> bool {
    matches!(err, ProcessError::Exited { tail, .. }
        if tail.to_ascii_lowercase().contains("address already in use"))
}

/// `DIR.EXT` beside a data directory rather than in it (etcd warns about
/// unknown files in its data directory), e.g. `/tmp/x/data.log`.
pub(crate) fn beside(data_dir: &Path, extension: &str) -> PathBuf {
    let mut name: OsString = data_dir
        .file_name()
        .map(|name| name.to_os_string())
        .unwrap_or_else(|| "data".into());
    name.push(".");
    name.push(extension);
    data_dir.with_file_name(name)
}

/// The last `bytes` of the log, for messages.
fn log_tail(path: &Path, bytes: u64) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(bytes)))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        Ok(String::from_utf8_lossy(&tail).into_owned())
    };
    read().unwrap_or_else(|err| format!("(cannot read the log: {err})"))
}

fn display(program: &std::ffi::OsStr) -> String {
    Path::new(program).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(dir: &Path, own_group: bool) -> Supervised {
        Supervised::new("sh", dir.join("sh.log"), dir.join("sh.pid"), own_group)
    }

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    /// Whether `pid` names a live process (a zombie counts as gone).
    fn alive(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.rsplit(") ").next().is_some_and(|s| s.starts_with('Z')))
    }

    #[test]
    fn logs_and_pid_files_sit_beside_the_data_dir() {
        assert_eq!(
            beside(Path::new("/tmp/x/data"), "log"),
            PathBuf::from("/tmp/x/data.log")
        );
        assert_eq!(
            beside(Path::new("/tmp/x/data"), "pid"),
            PathBuf::from("/tmp/x/data.pid")
        );
    }

    #[tokio::test]
    async fn a_child_that_exits_early_is_an_error_quoting_its_log() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut process = shell(dir.path(), false);
        let err = process
            .start(
                sh("echo bind: address already in use; exit 3"),
                Duration::from_secs(5),
                || async { false },
            )
            .await
            .expect_err("the child exits");
        assert!(lost_port_race(&err), "{err}");
        assert!(
            err.to_string().starts_with("sh exited during startup"),
            "{err}"
        );
        assert!(
            !process.pid_file().exists(),
            "the pid file goes with the child"
        );
    }

    #[tokio::test]
    async fn a_child_has_a_pid_file_and_stops_on_sigterm() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut process = shell(dir.path(), false);
        process
            .start(sh("exec sleep 30"), Duration::from_secs(5), || async {
                true
            })
            .await
            .expect("started");
        let pid = process.pid().expect("running").to_string();
        let written = std::fs::read_to_string(process.pid_file()).expect("a pid file");
        assert_eq!(written.trim(), pid);
        let stopped = process
            .terminate(Duration::from_secs(5))
            .await
            .expect("stopped");
        assert!(matches!(stopped, Stopped::Exited(_)), "{stopped:?}");
        assert!(!alive(&pid) && !process.is_running());
        assert!(!process.pid_file().exists());
        let again = process.terminate(Duration::from_secs(5)).await;
        assert_eq!(again.expect("a no-op"), Stopped::NotRunning);
    }

    #[tokio::test]
    async fn dropping_a_child_in_its_own_group_kills_what_it_started() {
        let dir = tempfile::tempdir().expect("temp dir");
        let marker = dir.path().join("grandchild.pid");
        let marker = marker.as_path();
        let mut process = shell(dir.path(), true);
        let script = format!("sleep 30 & echo $! > {}; wait", marker.display());
        let written = move || async move {
            std::fs::read_to_string(marker).is_ok_and(|pid| pid.ends_with('\n'))
        };
        process
            .start(sh(&script), Duration::from_secs(5), written)
            .await
            .expect("started");
        let grandchild = std::fs::read_to_string(marker).expect("written");
        let grandchild = grandchild.trim().to_string();
        assert!(alive(&grandchild));
        drop(process);
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(&grandchild) {
            assert!(Instant::now() < deadline, "{grandchild} outlived its group");
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}
