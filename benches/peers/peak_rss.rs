//! `peak_rss COMMAND [ARGS...]`: runs COMMAND, then prints its peak resident set size on
//! stderr as `peak_rss_kib N` and exits with its exit code. Used by `measure.py`.
//!
//! Why not measure from Python: Linux keeps a process's `ru_maxrss` across `exec`, so a child
//! forked from the Python interpreter reports at least the interpreter's ~10 MiB, which hides
//! fleetsim's own ~3 MiB. Spawned from this small process, the floor is this process's size.

use std::process::Command;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: peak_rss COMMAND [ARGS...]");
        std::process::exit(2);
    };
    let child = match Command::new(&program).args(args).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("peak_rss: cannot run {}: {e}", program.to_string_lossy());
            std::process::exit(2);
        }
    };
    let mut status = 0;
    // SAFETY: `rusage` is plain data, fully written by wait4 on success; the pid is our child,
    // not yet reaped (`Child::wait` is never called).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    if pid < 0 {
        eprintln!(
            "peak_rss: wait4 failed: {}",
            std::io::Error::last_os_error()
        );
        std::process::exit(2);
    }
    // ru_maxrss is in KiB on Linux.
    eprintln!("peak_rss_kib {}", usage.ru_maxrss);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        1
    };
    std::process::exit(code);
}
