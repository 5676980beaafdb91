//! The options every launcher takes, in one builder: where a process keeps
//! its data, log and pid, how long it may take to get ready, and whether it
//! runs in a process group of its own. What is particular to one program
//! (etcd's binary, a keelson component's subcommand and address) is the
//! builder's `S`, with its own methods in that program's module.

use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::time::Duration;

use tempfile::TempDir;

use crate::process::{ProcessError, Supervised, beside, io_error};

/// How long a process may take to get ready unless told otherwise.
const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Options for starting a child process; see
/// [`EtcdBuilder`](crate::etcd::EtcdBuilder) and
/// [`KeelsonBuilder`](crate::keelson::KeelsonBuilder).
#[derive(Clone, Debug)]
pub struct Builder<S> {
    pub(crate) spec: S,
    data_dir: Option<PathBuf>,
    log_file: Option<PathBuf>,
    pid_file: Option<PathBuf>,
    startup_timeout: Duration,
    own_process_group: bool,
}

impl<S> Builder<S> {
    pub(crate) fn new(spec: S) -> Self {
        Self {
            spec,
            data_dir: None,
            log_file: None,
            pid_file: None,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            own_process_group: false,
        }
    }

    /// Keeps the process's data in this directory (created if missing, left
    /// in place afterwards). Without it, `data` in a fresh temporary
    /// directory is used and removed when the process handle is dropped.
    pub fn data_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(path.into());
        self
    }

    /// Appends the process's output to this file instead of `<data dir>.log`.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// Writes the process's pid to this file instead of `<data dir>.pid`.
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.pid_file = Some(path.into());
        self
    }

    /// How long to wait for the process to get ready (default 30 s).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Starts the process in a process group of its own, so that stopping
    /// it signals everything it started too, and Ctrl-C in the terminal
    /// does not reach it (default false).
    pub fn own_process_group(mut self, own: bool) -> Self {
        self.own_process_group = own;
        self
    }

    /// Makes the data directory (a temporary one named `prefix...` if none
    /// was given; only its owner may read it, as etcd asks) and the handle
    /// of a process named `name`, not started yet.
    pub(crate) fn place(&self, prefix: &str, name: String) -> Result<Placed, ProcessError> {
        let (temp, data_dir) = match &self.data_dir {
            Some(dir) => (None, dir.clone()),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix(prefix)
                    .tempdir()
                    .map_err(io_error(format!("create a temporary directory for {name}")))?;
                let dir = temp.path().join("data");
                (Some(temp), dir)
            }
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&data_dir)
            .map_err(io_error(format!("create {}", data_dir.display())))?;
        let log_file = self.log_file.clone();
        let pid_file = self.pid_file.clone();
        let process = Supervised::new(
            name,
            log_file.unwrap_or_else(|| beside(&data_dir, "log")),
            pid_file.unwrap_or_else(|| beside(&data_dir, "pid")),
            self.own_process_group,
        );
        Ok(Placed {
            temp,
            data_dir,
            process,
            startup_timeout: self.startup_timeout,
        })
    }
}

/// A process's place on disk and its handle, before its first start.
#[derive(Debug)]
pub(crate) struct Placed {
    /// The temporary directory holding the data, if none was given; drop it
    /// after the process, which then removes the data.
    pub(crate) temp: Option<TempDir>,
    pub(crate) data_dir: PathBuf,
    pub(crate) process: Supervised,
    pub(crate) startup_timeout: Duration,
}
