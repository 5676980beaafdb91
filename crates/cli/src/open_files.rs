//! The open-files limit of `keelson up` and `keelson apiserver`: the soft
//! limit is raised to the hard one at start (as Go's runtime does for every
//! Go program, kube-apiserver among them), since each client connection
//! takes a file descriptor and 1,024, a login shell's usual soft limit, is
//! soon reached; and the connection cap is kept within what the limit leaves
//! room for, so that the cap, not a failing accept, decides who is served.

use anyhow::Context;
use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// The most file descriptors kept back from connections, for the store,
/// the clients of other servers and the logs.
const RESERVE: usize = 256;

/// Raises the soft open-files limit to the hard limit; the soft limit in
/// force after.
pub fn raise() -> anyhow::Result<u64> {
    let (soft, hard) =
        getrlimit(Resource::RLIMIT_NOFILE).context("cannot read the open-files limit")?;
    if soft >= hard {
        return Ok(soft);
    }
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
        .with_context(|| format!("cannot raise the open-files limit from {soft} to {hard}"))?;
    Ok(hard)
}

/// The connection cap: `requested`, or fewer if `open_files` (the limit)
/// leaves no room for so many beside a reserve of a quarter of the limit,
/// at most [`RESERVE`].
pub fn connection_cap(requested: usize, open_files: u64) -> usize {
    let open_files = usize::try_from(open_files).unwrap_or(usize::MAX);
    let reserve = (open_files / 4).min(RESERVE);
    requested.min(open_files - reserve).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_the_server_s_own_files() {
        let cases = [
            (10_000, 1_048_576, 10_000),
            (10_000, 20_000, 10_000),
            (10_000, 10_000, 9_744),
            (10_000, 1_024, 768),
            (100, 64, 48),
            (5, 1, 1),
            (5, 0, 1),
        ];
        for (requested, open_files, expected) in cases {
            assert_eq!(
                connection_cap(requested, open_files),
                expected,
                "{requested} connections asked for, {open_files} open files"
            );
        }
    }

    #[test]
    fn raising_leaves_the_soft_limit_at_the_hard_one() {
        let raised = raise().expect("the limit can be raised to the hard limit");
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("the limit can be read");
        assert_eq!((raised, soft), (hard, hard));
    }
}
