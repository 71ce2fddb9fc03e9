//! Fault injection for the reliability tests: named failpoints (the `fail` crate,
//! as TiKV uses it) at each stage of `run`, `ingest` and `kpi`. They exist only in
//! builds with the `failpoints` feature, which only the tests turn on; a normal
//! build compiles them to nothing.
//!
//! A test sets `FAILPOINTS="NAME=ACTION;..."` for the child process:
//! `return(kill)` kills the process there with SIGKILL (a crash, an OOM kill);
//! `return` or `return(error)` fails the command there with an error, as a full
//! disk would; the crate's own actions (`panic`, `sleep(MS)`, `pause`) work too.

/// A failpoint named `$name` (a literal). In a function returning
/// [`crate::Result`], `return(error)` makes it return an error; with a second
/// argument, that closure decides what the function returns.
#[macro_export]
macro_rules! failpoint {
    ($name:literal) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name, |action| $crate::failpoint::act($name, action));
    };
    ($name:literal, $returns:expr) => {
        #[cfg(feature = "failpoints")]
        fail::fail_point!($name, $returns);
    };
}

/// What `return(ACTION)` at failpoint `name` does.
#[cfg(feature = "failpoints")]
pub fn act<T>(name: &str, action: Option<String>) -> crate::Result<T> {
    if action.as_deref() == Some("kill") {
        let me = rustix::process::getpid();
        let _ = rustix::process::kill_process(me, rustix::process::Signal::KILL);
        // The signal cannot be caught; this line is never reached in practice.
        std::process::abort();
    }
    Err(crate::Error::Injected(name.to_string()))
}

/// Reads `FAILPOINTS` from the environment; keep the value alive for the whole
/// program.
#[cfg(feature = "failpoints")]
pub fn setup() -> fail::FailScenario<'static> {
    fail::FailScenario::setup()
}
