//! The log backend: events go through a bounded queue to one thread that
//! appends them as JSON lines, flushing whenever the queue runs dry (so a
//! slow disk never holds up the runtime's threads).
//!
//! When the queue is full a request waits for room, as upstream's default
//! `blocking` log mode blocks: no event is dropped, and memory stays
//! bounded while the disk is slow.

use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use tokio::sync::mpsc;

use super::AuditError;

/// Events queued for the writer at most.
const QUEUE: usize = 10_000;

/// Where events are sent.
#[derive(Clone, Debug)]
pub struct Sink {
    queue: mpsc::Sender<Vec<u8>>,
}

impl Sink {
    /// Appends to the file at `path` (made with mode 0600: events carry
    /// request bodies), or writes to standard output for `-`; starts the
    /// writer's thread.
    pub fn open(path: &Path) -> Result<Sink, AuditError> {
        let output: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(std::io::stdout())
        } else {
            let file = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(path)
                .map_err(|source| AuditError::Log {
                    path: path.display().to_string(),
                    source,
                })?;
            Box::new(file)
        };
        let (queue, events) = mpsc::channel(QUEUE);
        let name = path.display().to_string();
        std::thread::Builder::new()
            .name("audit-log".into())
            .spawn(move || write(events, BufWriter::new(output), name))
            .map_err(|source| AuditError::Log {
                path: path.display().to_string(),
                source,
            })?;
        Ok(Sink { queue })
    }

    /// Queues one line, waiting while the queue is full.
    pub async fn send(&self, line: Vec<u8>) {
        // The writer ends only when every sender is gone.
        let _ = self.queue.send(line).await;
    }
}

fn write(
    mut events: mpsc::Receiver<Vec<u8>>,
    mut out: BufWriter<Box<dyn Write + Send>>,
    path: String,
) {
    let mut failing = false;
    while let Some(line) = events.blocking_recv() {
        let mut result = out.write_all(&line);
        while result.is_ok()
            && let Ok(line) = events.try_recv()
        {
            result = out.write_all(&line);
        }
        let result = match result {
            Ok(()) => out.flush(),
            Err(err) => Err(err),
        };
        match result {
            Err(err) if !failing => {
                tracing::error!(path, error = %err, "failed to write the audit log");
                failing = true;
            }
            Err(_) => {}
            Ok(()) => failing = false,
        }
    }
}
