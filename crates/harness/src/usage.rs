//! What a child process uses, read from Linux's `/proc`: its resident
//! memory now and at its peak, and its CPU time, for the benchmarks and
//! tests that bound them.

use std::io;

/// A process's memory and CPU time at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// Resident memory now (`VmRSS`), in bytes.
    pub rss_bytes: u64,
    /// The most resident memory so far (`VmHWM`), in bytes.
    pub peak_rss_bytes: u64,
    /// User and system CPU time so far, in seconds.
    pub cpu_seconds: f64,
}

/// The kernel's unit of CPU time in `/proc/PID/stat` (`USER_HZ`), which
/// is 100 on every Linux architecture.
const TICKS_PER_SECOND: f64 = 100.0;

/// Reads what process `pid` uses now.
pub fn of(pid: u32) -> io::Result<Usage> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let missing = |what: &str| io::Error::other(format!("no {what} for process {pid} in /proc"));
    let kib = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .ok_or_else(|| missing(name))
    };
    // The fields after the command name, which is in parentheses: utime
    // and stime, the 14th and 15th fields of the line, are 11 and 12 here.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let (user, system) = ticks(11)
        .zip(ticks(12))
        .ok_or_else(|| missing("CPU times"))?;
    Ok(Usage {
        rss_bytes: kib("VmRSS:")?,
        peak_rss_bytes: kib("VmHWM:")?,
        cpu_seconds: (user + system) as f64 / TICKS_PER_SECOND,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_uses_memory_and_time() {
        let usage = of(std::process::id()).expect("this process is in /proc");
        assert!(usage.rss_bytes > 0);
        assert!(usage.peak_rss_bytes >= usage.rss_bytes);
        assert!(usage.cpu_seconds >= 0.0);
    }
}
