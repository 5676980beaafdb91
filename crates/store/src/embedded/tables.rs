//! The embedded database's tables and the reads every part of the backend
//! shares (request handlers, the writer, watch catch-up).
//!
//! - `versions`: (key, revision) -> record, every kept version of every key;
//! - `log`: revision -> key, the order of writes, for watches;
//! - `meta`: the current and compacted revisions.

use redb::{ReadableTable, TableDefinition};

use super::record::Record;
use crate::{Event, EventKind, KeyValue, Revision, StoreError};

pub(crate) const VERSIONS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("versions");
pub(crate) const LOG: TableDefinition<u64, &str> = TableDefinition::new("log");
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

pub(crate) const META_REVISION: &str = "revision";
pub(crate) const META_COMPACTED: &str = "compacted";

pub(crate) fn storage(err: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("embedded database: {err}"))
}

pub(crate) fn meta_value(
    meta: &impl ReadableTable<&'static str, u64>,
    name: &str,
) -> Result<u64, StoreError> {
    Ok(meta
        .get(name)
        .map_err(storage)?
        .map(|v| v.value())
        .unwrap_or(0))
}

/// The record of `key` at exactly `revision`.
pub(crate) fn record_at(
    versions: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    key: &str,
    revision: u64,
) -> Result<Option<Record>, StoreError> {
    match versions.get((key, revision)).map_err(storage)? {
        Some(bytes) => Ok(Some(Record::decode(bytes.value())?)),
        None => Ok(None),
    }
}

/// The newest version of `key` written at or before `revision`.
pub(crate) fn version_at(
    versions: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    key: &str,
    revision: u64,
) -> Result<Option<(u64, Record)>, StoreError> {
    let mut range = versions
        .range((key, 0)..=(key, revision))
        .map_err(storage)?;
    match range.next_back() {
        Some(entry) => {
            let (k, v) = entry.map_err(storage)?;
            Ok(Some((k.value().1, Record::decode(v.value())?)))
        }
        None => Ok(None),
    }
}

/// The live value of `key`: its newest version, unless that is a tombstone.
pub(crate) fn latest_kv(
    versions: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    key: &str,
) -> Result<Option<KeyValue>, StoreError> {
    Ok(match version_at(versions, key, u64::MAX)? {
        Some((revision, record)) => record.into_kv(key, revision as Revision),
        None => None,
    })
}

fn missing(key: &str, revision: u64) -> StoreError {
    StoreError::Internal(format!(
        "embedded database: index names revision {revision} of {key:?}, which is not stored"
    ))
}

/// A version's revision and its encoded record.
type Versioned = (u64, Vec<u8>);

/// Keys under `prefix` as they were at `revision`.
pub(crate) fn range_at(
    versions: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    prefix: &str,
    start_after: Option<&str>,
    revision: u64,
    limit: usize,
) -> Result<(Vec<KeyValue>, bool), StoreError> {
    let mut out = Vec::new();
    let mut range = match start_after {
        Some(after) => versions.range((after, u64::MAX)..).map_err(storage)?,
        None => versions.range((prefix, 0)..).map_err(storage)?,
    };
    // Walk the versions key by key, keeping the newest one at or before `revision`.
    let mut current: Option<(String, Option<Versioned>)> = None;
    loop {
        let next = range.next().transpose().map_err(storage)?;
        let next_key = next.as_ref().map(|(k, _)| k.value().0);
        let key_changed = match (&current, next_key) {
            (Some((key, _)), Some(next_key)) => key != next_key,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if key_changed {
            let (key, newest) = current.take().expect("key_changed implies a current key");
            if let Some((mod_revision, bytes)) = newest
                && let Some(kv) = Record::decode(&bytes)?.into_kv(&key, mod_revision as Revision)
            {
                if out.len() == limit {
                    return Ok((out, true));
                }
                out.push(kv);
            }
        }
        let Some((k, v)) = next else {
            return Ok((out, false));
        };
        let (key, version) = k.value();
        if !key.starts_with(prefix) {
            // Keys under a prefix are contiguous, and the last one was flushed above.
            return Ok((out, false));
        }
        if Some(key) == start_after {
            continue;
        }
        let slot = current.get_or_insert_with(|| (key.to_string(), None));
        if version <= revision {
            slot.1 = Some((version, v.value().to_vec()));
        }
    }
}

/// The event of the write committed at `revision` to `key`.
pub(crate) fn event_at(
    versions: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    key: &str,
    revision: u64,
) -> Result<Event, StoreError> {
    let record = record_at(versions, key, revision)?.ok_or_else(|| missing(key, revision))?;
    let prev = match revision.checked_sub(1) {
        Some(before) => match version_at(versions, key, before)? {
            Some((mod_revision, record)) => record.into_kv(key, mod_revision as Revision),
            None => None,
        },
        None => None,
    };
    Ok(match record.into_kv(key, revision as Revision) {
        Some(kv) => Event {
            kind: EventKind::Put,
            kv,
            prev,
        },
        None => Event {
            kind: EventKind::Delete,
            kv: deleted_kv(key, revision as Revision),
            prev,
        },
    })
}

/// The key-value a delete event carries, as etcd reports it.
pub(crate) fn deleted_kv(key: &str, revision: Revision) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: bytes::Bytes::new(),
        create_revision: 0,
        mod_revision: revision,
        version: 0,
    }
}
