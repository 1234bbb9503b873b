//! Peak memory of this process, as the kernel counts it (`VmHWM`), and a
//! reset of that peak between configurations so each reports its own.

/// Peak resident set size in bytes since the start or the last reset, if the
/// system tells it (Linux's `/proc/self/status`).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Start counting the peak afresh (writing 5 to `clear_refs` resets
/// `VmHWM`). Where that is not possible, peaks stay cumulative.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// `bytes` as MB with one decimal.
pub fn megabytes(bytes: Option<u64>) -> String {
    match bytes {
        Some(b) => format!("{:.1} MB", b as f64 / 1e6),
        None => "?".into(),
    }
}
