//! `fimkit codegen` and `fimkit completions`.

use super::{EXIT_INTERNAL, EXIT_MODEL_ERROR, EXIT_USAGE, Format, load_model, quiet};
use clap::{CommandFactory, ValueEnum};
use fimkit::codegen::{CodegenConfig, CodegenError, Lang, derive_and_generate};
use std::path::Path;
use std::process::ExitCode;

/// `fimkit codegen --help` examples.
pub(super) const AFTER_HELP: &str = "\
Every function takes the parameters, then the data, then the covariates, in
declaration order (fim takes no data); the file's header documents the
signature. Python uses scipy.special, JAX jax.scipy.special (pure functions,
ready for jax.vmap/jax.jit); Rust and C are self-contained (C: link with -lm).
Without a closed-form Fisher information the file says why and has no fim.

Examples:
  fimkit codegen examples/normal.fim --lang python -o normal_fim.py
  fimkit codegen examples/gamma.fim --lang rust > src/gamma_fim.rs
  fimkit codegen examples/beta.fim --lang c --prefix beta_ -o beta.c
  fimkit codegen examples/binomial_odds.fim --lang jax --coords odds";

/// `fimkit completions --help` examples.
pub(super) const COMPLETIONS_HELP: &str = "\
Examples:
  fimkit completions bash > ~/.local/share/bash-completion/completions/fimkit
  fimkit completions zsh > ~/.zfunc/_fimkit
  fimkit completions fish > ~/.config/fish/completions/fimkit.fish";

/// Target languages on the command line.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(super) enum LangArg {
    /// Rust (std only, special functions included).
    Rust,
    /// Python with NumPy and SciPy.
    Python,
    /// JAX (vmap/jit-ready).
    Jax,
    /// C99 with math.h.
    C,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Rust => Lang::Rust,
            LangArg::Python => Lang::Python,
            LangArg::Jax => Lang::Jax,
            LangArg::C => Lang::C,
        }
    }
}

pub(super) fn codegen_cmd(
    path: &Path,
    lang: LangArg,
    output: Option<&Path>,
    coords: Option<String>,
    prefix: Option<String>,
) -> ExitCode {
    let (model, _source) = match load_model(path, Format::Text) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let config = CodegenConfig { prefix, coords };
    let generated = match derive_and_generate(&model, lang.into(), &config) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(match e {
                CodegenError::UnknownCoords(_) => EXIT_USAGE,
                CodegenError::Internal(_) => EXIT_INTERNAL,
                _ => EXIT_MODEL_ERROR,
            });
        }
    };
    if let Some(why) = &generated.fim_missing
        && !quiet()
    {
        eprintln!("note: no closed-form Fisher information, so no fim function: {why}");
    }
    match output {
        Some(file) => {
            if let Err(e) = std::fs::write(file, &generated.code) {
                eprintln!("error: cannot write {}: {e}", file.display());
                return ExitCode::from(EXIT_USAGE);
            }
        }
        None => print!("{}", generated.code),
    }
    ExitCode::SUCCESS
}

pub(super) fn completions_cmd(shell: clap_complete::Shell) -> ExitCode {
    let mut cmd = super::Cli::command();
    clap_complete::generate(shell, &mut cmd, "fimkit", &mut std::io::stdout());
    ExitCode::SUCCESS
}
