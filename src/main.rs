//! The `fimkit` command line: a thin layer over the library.

mod cli;

/// Derivations build and drop many small expression trees; mimalloc makes
/// `fimkit derive` 10–20% faster than the system allocator (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Deep (but bounded) expressions recurse; give the work a roomy stack.
    let (done, finished) = std::sync::mpsc::channel();
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let code = cli::run();
            let _ = done.send(());
            code
        });
    let Ok(worker) = worker else {
        eprintln!("fimkit: internal error: cannot start the worker thread");
        return std::process::ExitCode::from(3);
    };
    // The watchdog: the command stops with a clear message, naming the
    // stage, when it passes its time or memory budget (cli::budget).
    let start = std::time::Instant::now();
    // Until the worker finishes (or panics and drops its sender).
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
        finished.recv_timeout(std::time::Duration::from_millis(25))
    {
        if let Some(message) = cli::budget::exceeded(start.elapsed()) {
            use std::io::Write;
            let _ = std::io::stdout().flush();
            eprintln!("{message}");
            std::process::exit(i32::from(cli::budget::EXIT_BUDGET));
        }
    }
    match worker.join() {
        Ok(code) => code,
        Err(_) => {
            eprintln!("fimkit: internal error (please report it with the model file)");
            std::process::ExitCode::from(3)
        }
    }
}
