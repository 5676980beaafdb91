//! How one version of a key is laid out in the embedded database.
//!
//! A record is a flag byte (put or tombstone), the create revision and the
//! version as little-endian i64, then the value bytes.

use bytes::Bytes;

use crate::{KeyValue, Revision, StoreError};

const PUT: u8 = 0;
const TOMBSTONE: u8 = 1;
const HEADER: usize = 17;

/// One decoded version of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    Put {
        create_revision: Revision,
        version: i64,
        value: Bytes,
    },
    Tombstone,
}

impl Record {
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Record::Put {
                create_revision,
                version,
                value,
            } => {
                let mut out = Vec::with_capacity(HEADER + value.len());
                out.push(PUT);
                out.extend_from_slice(&create_revision.to_le_bytes());
                out.extend_from_slice(&version.to_le_bytes());
                out.extend_from_slice(value);
                out
            }
            Record::Tombstone => vec![TOMBSTONE],
        }
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Record, StoreError> {
        match bytes.first() {
            Some(&TOMBSTONE) => Ok(Record::Tombstone),
            Some(&PUT) if bytes.len() >= HEADER => {
                let create_revision = read_i64(&bytes[1..9]);
                let version = read_i64(&bytes[9..17]);
                Ok(Record::Put {
                    create_revision,
                    version,
                    value: Bytes::copy_from_slice(&bytes[HEADER..]),
                })
            }
            _ => Err(StoreError::Internal(format!(
                "damaged record of {} bytes in the embedded database",
                bytes.len()
            ))),
        }
    }

    /// The key-value this record describes, if it is a put.
    pub(crate) fn into_kv(self, key: &str, mod_revision: Revision) -> Option<KeyValue> {
        match self {
            Record::Put {
                create_revision,
                version,
                value,
            } => Some(KeyValue {
                key: key.to_string(),
                value,
                create_revision,
                mod_revision,
                version,
            }),
            Record::Tombstone => None,
        }
    }
}

fn read_i64(bytes: &[u8]) -> i64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(bytes);
    i64::from_le_bytes(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let put = Record::Put {
            create_revision: 7,
            version: 3,
            value: Bytes::from_static(b"{\"a\":1}"),
        };
        assert_eq!(Record::decode(&put.encode()).unwrap(), put);
        assert_eq!(
            Record::decode(&Record::Tombstone.encode()).unwrap(),
            Record::Tombstone
        );
    }

    #[test]
    fn damaged_records_are_errors() {
        assert!(Record::decode(&[]).is_err());
        assert!(Record::decode(&[0, 1, 2]).is_err());
        assert!(Record::decode(&[9]).is_err());
    }
}
