//! `fimkit codegen` and `fimkit completions`.

use super::{Failure, Format, Report, load_model, quiet};
use clap::{CommandFactory, ValueEnum};
use fimkit::codegen::{CodegenConfig, CodegenError, Lang, derive_and_generate};
use std::path::Path;

/// `fimkit codegen --help` examples.
pub(super) const AFTER_HELP: &str = "\
Every function takes the parameters, then the data, then the covariates, in
declaration order (fim takes no data); the file's header documents the
signature. Python and JAX take an indexed name (alpha[1..K]) as one array of
shape (..., K) and raise ValueError for another length; Rust and C take each
element. Python uses scipy.special, JAX jax.scipy.special (pure functions,
ready for jax.vmap/jax.jit; they need jax_enable_x64 on and check it, but
importing them does not switch it on); Rust and C are self-contained (C:
link with -lm).
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
) -> Result<Report, Failure> {
    let (model, _source) = load_model(path, Format::Text)?;
    let config = CodegenConfig { prefix, coords };
    let generated = derive_and_generate(&model, lang.into(), &config).map_err(|e| match e {
        CodegenError::UnknownCoords(_) => Failure::usage(e.to_string()),
        CodegenError::Internal(_) => Failure::internal(e.to_string()),
        _ => Failure::model(e.to_string()),
    })?;
    let mut report = Report::default();
    if let Some(why) = &generated.fim_missing
        && !quiet()
    {
        report.notes =
            format!("note: no closed-form Fisher information, so no fim function: {why}\n");
    }
    match output {
        Some(file) => {
            if let Err(e) = std::fs::write(file, &generated.code) {
                let failure = Failure::usage(format!("cannot write {}: {e}", file.display()));
                return Err(failure.after(report));
            }
        }
        None => report.stdout = generated.code,
    }
    Ok(report)
}

pub(super) fn completions_cmd(shell: clap_complete::Shell) -> Result<Report, Failure> {
    let mut cmd = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "fimkit", &mut script);
    let script = String::from_utf8(script)
        .map_err(|e| Failure::internal(format!("the completion script is not UTF-8: {e}")))?;
    Ok(Report::output(script))
}
