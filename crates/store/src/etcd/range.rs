//! Reads of many keys, in pages, so that no etcd response outgrows what the
//! client takes in one gRPC message ([`MAX_MESSAGE_BYTES`]), however much a
//! prefix holds.
//!
//! One [`Store::range`] is one or more etcd Range requests with a limit,
//! each starting just after the last key of the one before (`key + "\0"`),
//! every one after the first at the revision the first was served at: the
//! pages make one consistent snapshot, as a single request would. How many
//! keys a page asks for follows the largest entry read so far
//! ([`PageSize`]); a page that still comes back too large (a run of large
//! values after small ones) is asked for again with fewer keys.

use super::*;
use crate::{MAX_KEY_BYTES, MAX_VALUE_BYTES};

/// The most keys one page asks for: as many as the API server's largest
/// chunks, so that a list of small objects takes few requests (each costs
/// etcd a walk over the rest of the range), while a page that meets larger
/// values than expected makes etcd build no more than about 1.5 GiB before
/// the client refuses it.
const PAGE_MAX_KEYS: usize = 1000;
/// The size a page aims at once entry sizes are known: well under the
/// message limit, so that entries somewhat larger than those seen still fit.
const PAGE_TARGET_BYTES: usize = MAX_MESSAGE_BYTES / 4;
/// The encoded size of an entry beyond its key and value, and more: field
/// tags, lengths, revisions, version, lease.
const ENTRY_OVERHEAD_BYTES: usize = 64;
/// The largest entry keelson writes.
const MAX_ENTRY_BYTES: usize = MAX_KEY_BYTES + MAX_VALUE_BYTES + ENTRY_OVERHEAD_BYTES;
/// A page of this many keys fits in one message even if every entry is as
/// large as keelson allows: the size of the first page, and of every page
/// after one came back too large.
const SAFE_PAGE_KEYS: usize = MAX_MESSAGE_BYTES / MAX_ENTRY_BYTES - 1;
// One entry less than would fill a message leaves room for the response's
// header; and a safe page should still hold a fair number of keys.
const _: () = assert!(SAFE_PAGE_KEYS >= 16);

impl EtcdStore {
    /// [`Store::range`]: pages until the caller's limit or the end of the
    /// prefix, at one revision.
    pub(super) async fn range_in_pages(
        &self,
        request: RangeRequest,
    ) -> Result<RangeResponse, StoreError> {
        validate_prefix(&request.prefix)?;
        let end = prefix_end(&request.prefix);
        let limit = request.limit.filter(|l| *l > 0);
        let mut start = first_key(&request);
        let mut revision = request.revision.filter(|r| *r > 0);
        let mut sizes = PageSize::default();
        let mut kvs = Vec::new();
        loop {
            let count = sizes.next(limit.map(|l| l - kvs.len()));
            let mut page = match self.page(&start, &end, revision, count).await {
                Ok(page) => page,
                Err(PageError::TooLarge(detail)) => {
                    tracing::debug!(
                        prefix = %request.prefix,
                        count,
                        %detail,
                        "an etcd page was over the message limit; reading it again in smaller pages"
                    );
                    if sizes.shrink(count) {
                        continue;
                    }
                    return Err(StoreError::Internal(format!(
                        "the key at or after {start:?} in etcd at {} is too large to read: {detail}",
                        self.endpoints
                    )));
                }
                Err(PageError::Store(err)) => return Err(err),
            };
            let served_at = match revision {
                Some(revision) => revision,
                None => revision_of(page.header())?,
            };
            revision = Some(served_at);
            let more = page.more();
            let read = page
                .take_kvs()
                .into_iter()
                .map(to_kv)
                .collect::<Result<Vec<_>, _>>()?;
            sizes.read(&read);
            // An empty page ends the read (`more` with no key cannot happen).
            let Some(next) = read.last().map(|kv| format!("{}\0", kv.key)) else {
                return Ok(RangeResponse {
                    kvs,
                    more: false,
                    revision: served_at,
                });
            };
            kvs.extend(read);
            if !more || limit.is_some_and(|l| kvs.len() >= l) {
                return Ok(RangeResponse {
                    kvs,
                    more,
                    revision: served_at,
                });
            }
            start = next;
        }
    }

    /// One etcd Range request: at most `count` keys from `start` (inclusive)
    /// to `end`, at `revision` or the latest.
    async fn page(
        &self,
        start: &str,
        end: &[u8],
        revision: Option<Revision>,
        count: usize,
    ) -> Result<etcd_client::GetResponse, PageError> {
        let options = GetOptions::new()
            .with_range(end)
            .with_revision(revision.unwrap_or(0))
            .with_limit(i64::try_from(count).unwrap_or(i64::MAX));
        let err = match self.kv.clone().get(start, Some(options)).await {
            Ok(page) => return Ok(page),
            Err(err) => err,
        };
        let requested = revision.unwrap_or(0);
        Err(match classify(err, &self.endpoints) {
            Failure::Compacted => PageError::Store(self.compacted_error(requested).await),
            Failure::FutureRevision => PageError::Store(self.future_error(requested).await),
            Failure::TooLarge(detail) => PageError::TooLarge(detail),
            Failure::Other(err) => PageError::Store(err),
        })
    }
}

/// Why a page was not read.
enum PageError {
    /// The response was over the message limit: asking for fewer keys may work.
    TooLarge(String),
    Store(StoreError),
}

/// Where a read starts: just after `start_after` when that lies under the
/// prefix, else at the prefix.
fn first_key(request: &RangeRequest) -> String {
    match &request.start_after {
        Some(after) if after.as_str() >= request.prefix.as_str() => format!("{after}\0"),
        _ => request.prefix.clone(),
    }
}

/// How many keys the next page of one read asks for.
#[derive(Debug)]
struct PageSize {
    /// The encoded size of the largest entry read so far; 0 before the first page.
    largest: usize,
    /// The most keys a page may ask for; lowered when a page came back too large.
    ceiling: usize,
}

impl Default for PageSize {
    fn default() -> Self {
        PageSize {
            largest: 0,
            ceiling: PAGE_MAX_KEYS,
        }
    }
}

impl PageSize {
    /// The next page's key count, at most `wanted` (the keys the caller
    /// still wants, if it set a limit) and at least one.
    fn next(&self, wanted: Option<usize>) -> usize {
        let by_size = match self.largest {
            0 => SAFE_PAGE_KEYS,
            largest => (PAGE_TARGET_BYTES / largest).max(SAFE_PAGE_KEYS),
        };
        by_size
            .min(self.ceiling)
            .min(wanted.unwrap_or(usize::MAX))
            .max(1)
    }

    /// Notes the sizes of the entries read so far.
    fn read(&mut self, kvs: &[KeyValue]) {
        let largest = kvs
            .iter()
            .map(|kv| kv.key.len() + kv.value.len() + ENTRY_OVERHEAD_BYTES)
            .max()
            .unwrap_or(0);
        self.largest = self.largest.max(largest);
    }

    /// Lowers the ceiling after a page of `count` keys came back too large:
    /// to a page that fits whatever keelson wrote, or, when that was too
    /// large too (values written by others), to half. False when a page of
    /// one key was too large.
    fn shrink(&mut self, count: usize) -> bool {
        if count <= 1 {
            return false;
        }
        self.ceiling = if count > SAFE_PAGE_KEYS {
            SAFE_PAGE_KEYS
        } else {
            count / 2
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(value_bytes: usize) -> KeyValue {
        KeyValue {
            key: "/k".into(),
            value: Bytes::from(vec![0; value_bytes]),
            create_revision: 1,
            mod_revision: 1,
            version: 1,
        }
    }

    #[test]
    fn pages_follow_the_largest_entry_read() {
        let mut sizes = PageSize::default();
        assert_eq!(sizes.next(None), SAFE_PAGE_KEYS, "nothing read yet");
        sizes.read(&[entry(100), entry(1000)]);
        assert_eq!(sizes.next(None), PAGE_MAX_KEYS, "small entries");
        assert_eq!(sizes.next(Some(7)), 7, "the caller's limit");
        assert_eq!(sizes.next(Some(0)), 1, "never an unlimited page");
        sizes.read(&[entry(PAGE_TARGET_BYTES / 100)]);
        assert_eq!(sizes.next(None), 99, "aims at the target size");
        sizes.read(&[entry(MAX_VALUE_BYTES)]);
        assert_eq!(sizes.next(None), SAFE_PAGE_KEYS, "no fewer than fit anyway");
        sizes.read(&[entry(100)]);
        assert_eq!(
            sizes.next(None),
            SAFE_PAGE_KEYS,
            "the largest so far counts"
        );
    }

    #[test]
    fn a_page_that_came_back_too_large_is_asked_for_smaller() {
        let mut sizes = PageSize::default();
        sizes.read(&[entry(100)]);
        assert!(sizes.shrink(PAGE_MAX_KEYS));
        assert_eq!(sizes.next(None), SAFE_PAGE_KEYS);
        assert!(sizes.shrink(SAFE_PAGE_KEYS));
        assert_eq!(sizes.next(None), SAFE_PAGE_KEYS / 2);
        sizes.read(&[entry(10)]);
        assert_eq!(sizes.next(None), SAFE_PAGE_KEYS / 2, "the ceiling stays");
        assert!(sizes.shrink(2));
        assert_eq!(sizes.next(None), 1);
        assert!(!sizes.shrink(1), "one key is as small as a page gets");
    }
}
