//! Watches on etcd that survive etcd restarts and slow readers.

use super::*;

/// One [`Store::watch`]: a task that reads the etcd watch as fast as etcd
/// sends, resumes it when it breaks, and hands batches of events to the
/// caller's stream through a bounded channel.
///
/// Reading eagerly matters: responses left unread in the HTTP/2 connection
/// count against its budget for small frames, and a connection over budget is
/// closed (GOAWAY "too_many_data_frames"), failing every call on it. So when
/// the caller falls [`WATCH_BUFFER`] responses behind, the task cancels the
/// etcd watch instead, and opens it again from where it stopped once the
/// caller catches up. The task ends when the caller drops its stream, and
/// dropping the gRPC stream makes etcd cancel the watch.
///
/// The watch asks etcd for fragments: a response etcd would send whole (up
/// to 1,000 revisions when a watch catches up, each with its previous value)
/// can be far larger than the client takes in one message, so etcd splits
/// it into pieces of about its `--max-request-bytes`. A piece may end in the
/// middle of a revision; that revision's events wait for the next piece, so
/// that a watch resumed after a break starts at a revision not yet passed on.
pub(super) struct Watcher {
    pub(super) client: WatchClient,
    pub(super) endpoints: String,
    pub(super) prefix: String,
    /// The first revision not yet received: where a resumed watch starts.
    pub(super) next: Revision,
    pub(super) stream: Option<etcd_client::WatchStream>,
    /// The events of the last revision of a fragment, until the next
    /// fragment shows whether that revision goes on.
    pub(super) pending: Vec<Event>,
}

type Batch = Result<Vec<Event>, StoreError>;

impl Watcher {
    pub(super) async fn run(mut self, tx: mpsc::Sender<Batch>) {
        loop {
            if tx.capacity() == 0 {
                tracing::debug!(
                    prefix = %self.prefix,
                    next = self.next,
                    "the watch's reader is {WATCH_BUFFER} responses behind; pausing the etcd watch"
                );
                self.stream = None;
                tokio::select! {
                    _ = tx.closed() => return,
                    room = tx.reserve() => if room.is_err() { return },
                }
            }
            let received = tokio::select! {
                _ = tx.closed() => return,
                received = self.receive() => received,
            };
            let failed = received.is_err();
            if matches!(&received, Ok(events) if events.is_empty()) {
                continue;
            }
            if tx.send(received).await.is_err() || failed {
                return;
            }
        }
    }

    /// Waits for the next response and returns its events, first resuming
    /// the watch if the stream broke. A broken stream returns no events.
    async fn receive(&mut self) -> Result<Vec<Event>, StoreError> {
        let mut stream = match self.stream.take() {
            Some(stream) => stream,
            None => {
                let (stream, first) = self.resume().await?;
                self.stream = Some(stream);
                return Ok(first);
            }
        };
        match stream.message().await {
            Ok(Some(response)) => {
                self.stream = Some(stream);
                self.take(response)
            }
            Ok(None) => {
                tracing::info!(prefix = %self.prefix, "etcd ended a watch stream; resuming");
                Ok(Vec::new())
            }
            Err(err) => match classify(err, &self.endpoints) {
                // Resuming would meet the same response again.
                Failure::TooLarge(detail) => Err(StoreError::Internal(format!(
                    "a watch response from etcd at {} for {:?} is too large to read; etcd \
                     splits watch responses at its --max-request-bytes, which must stay well \
                     under {} MiB: {detail}",
                    self.endpoints,
                    self.prefix,
                    MAX_MESSAGE_BYTES / (1024 * 1024)
                ))),
                failure => {
                    let err = failure.into_error();
                    tracing::info!(prefix = %self.prefix, %err, "etcd watch stream broke; resuming");
                    Ok(Vec::new())
                }
            },
        }
    }

    /// The events of one response, advancing `next` past them.
    fn take(&mut self, response: WatchResponse) -> Result<Vec<Event>, StoreError> {
        if response.canceled() {
            if response.compact_revision() > 0 {
                return Err(StoreError::Compacted {
                    requested: self.next,
                    compacted: response.compact_revision(),
                });
            }
            tracing::warn!(
                prefix = %self.prefix,
                reason = response.cancel_reason(),
                "etcd canceled a watch; resuming"
            );
            self.stream = None;
            return Ok(Vec::new());
        }
        let mut events = std::mem::take(&mut self.pending);
        for event in response.events() {
            events.push(to_event(event)?);
        }
        // etcd-client has no getter for `fragment`; its `pub-response-field`
        // feature makes the response's protobuf fields public.
        if response.0.fragment {
            self.pending = events.split_off(last_revision_start(&events));
        }
        if let Some(last) = events.last() {
            self.next = self.next.max(last.revision() + 1);
        }
        Ok(events)
    }

    /// Opens the watch again from `next`, retrying with backoff for up to
    /// [`WATCH_RESUME_TIMEOUT`].
    async fn resume(&mut self) -> Result<(etcd_client::WatchStream, Vec<Event>), StoreError> {
        let deadline = tokio::time::Instant::now() + WATCH_RESUME_TIMEOUT;
        let mut backoff = RESUME_BACKOFF_FIRST;
        loop {
            match self.open().await {
                Ok(opened) => return Ok(opened),
                Err(StoreError::Unavailable(detail)) => {
                    if tokio::time::Instant::now() + backoff > deadline {
                        return Err(StoreError::Unavailable(format!(
                            "watch of {:?} could not resume at revision {} within {:?}: {detail}",
                            self.prefix, self.next, WATCH_RESUME_TIMEOUT
                        )));
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RESUME_BACKOFF_MAX);
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Opens the etcd watch from `next` and waits for etcd to confirm it.
    /// Returns the stream and the events of the first response, if any.
    pub(super) async fn open(
        &mut self,
    ) -> Result<(etcd_client::WatchStream, Vec<Event>), StoreError> {
        let options = WatchOptions::new()
            .with_range(prefix_end(&self.prefix))
            .with_prev_key()
            .with_fragment()
            .with_start_revision(self.next);
        // A new stream starts at `next`, before any held-back event.
        self.pending.clear();
        let mut client = self.client.clone();
        let prefix = self.prefix.clone();
        let open = async move {
            let mut stream = client.watch(prefix, Some(options)).await?;
            let first = stream.message().await?;
            Ok::<_, etcd_client::Error>((stream, first))
        };
        let (stream, first) = match tokio::time::timeout(WATCH_OPEN_TIMEOUT, open).await {
            Ok(Ok(opened)) => opened,
            Ok(Err(err)) => return Err(classify(err, &self.endpoints).into_error()),
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "etcd at {} did not open a watch within {WATCH_OPEN_TIMEOUT:?}",
                    self.endpoints
                )));
            }
        };
        match first {
            Some(response) if response.canceled() && response.compact_revision() > 0 => {
                Err(StoreError::Compacted {
                    requested: self.next,
                    compacted: response.compact_revision(),
                })
            }
            // Retried like a lost connection when resuming.
            Some(response) if response.canceled() => Err(StoreError::Unavailable(format!(
                "etcd at {} canceled a watch of {:?}: {}",
                self.endpoints,
                self.prefix,
                response.cancel_reason()
            ))),
            Some(response) => {
                let events = self.take(response)?;
                Ok((stream, events))
            }
            None => Err(StoreError::Unavailable(format!(
                "etcd at {} closed a watch as it opened",
                self.endpoints
            ))),
        }
    }
}

/// Where the events of the last revision in `events` (in revision order) begin.
fn last_revision_start(events: &[Event]) -> usize {
    let last = events.last().map(Event::revision);
    events
        .iter()
        .rposition(|event| Some(event.revision()) != last)
        .map_or(0, |i| i + 1)
}

/// Maps an etcd event. The kind comes from the key's version, which is 0
/// only for a deletion's tombstone: etcd-client's `event_type()` panics on a
/// type number it does not know, and network data must not panic us.
fn to_event(event: &etcd_client::Event) -> Result<Event, StoreError> {
    let kv = event
        .kv()
        .cloned()
        .ok_or_else(|| StoreError::Internal("etcd sent a watch event without a key".into()))?;
    let kv = to_kv(kv)?;
    let kind = if kv.version == 0 {
        EventKind::Delete
    } else {
        EventKind::Put
    };
    let prev = event.prev_kv().cloned().map(to_kv).transpose()?;
    Ok(Event { kind, kv, prev })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_at(revision: Revision) -> Event {
        let kv = KeyValue {
            key: format!("/k/{revision}"),
            value: Bytes::new(),
            create_revision: revision,
            mod_revision: revision,
            version: 1,
        };
        Event {
            kind: EventKind::Put,
            kv,
            prev: None,
        }
    }

    #[test]
    fn the_last_revision_of_a_fragment_is_found() {
        let events =
            |revisions: &[Revision]| revisions.iter().map(|r| put_at(*r)).collect::<Vec<_>>();
        let cases: &[(&[Revision], usize)] = &[
            (&[], 0),
            (&[5], 0),
            (&[5, 5], 0),
            (&[4, 5], 1),
            (&[4, 5, 5, 5], 1),
            (&[3, 4, 4, 5], 3),
        ];
        for (revisions, want) in cases {
            assert_eq!(
                last_revision_start(&events(revisions)),
                *want,
                "{revisions:?}"
            );
        }
    }
}
