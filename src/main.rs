//! The `fimkit` command line: a thin layer over the library.

mod cli;

/// Derivations build and drop many small expression trees; mimalloc makes
/// `fimkit derive` 10–20% faster than the system allocator (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Deep (but bounded) expressions recurse; give the work a roomy stack.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(cli::run);
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("fimkit: internal error (please report it with the model file)");
            std::process::ExitCode::from(3)
        }
    }
}
