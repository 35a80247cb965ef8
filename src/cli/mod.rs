//! Command-line interface: argument parsing and output routing. Results go
//! to stdout, diagnostics and errors to stderr.
//!
//! Exit codes: 0 success, 1 the model has errors, 2 usage or I/O error,
//! 3 internal error.

mod check;

use clap::{Parser, Subcommand, ValueEnum};
use fimkit::render::diagnostics::{DiagnosticStyle, render_human, to_json};
use fimkit::render::model::{model_json, model_text};
use fimkit::render::text::TextStyle;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code: the model file has errors.
const EXIT_MODEL_ERROR: u8 = 1;
/// Exit code: bad usage or unreadable file.
const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "fimkit",
    version,
    about = "Fisher information from a model file",
    long_about = "fimkit reads a statistical model written as a small text file and derives its score, \
Hessian and Fisher information matrix.",
    after_help = "Examples:\n  fimkit parse examples/normal.fim\n  fimkit parse examples/gamma.fim --format json\n\n\
Exit codes: 0 success, 1 the model has errors, 2 usage or I/O error, 3 internal error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output formats.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// Readable text.
    Text,
    /// JSON for programs.
    Json,
    /// LaTeX (derive only).
    Latex,
}

/// Output formats of `parse`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ParseFormat {
    /// Readable text.
    Text,
    /// JSON for programs.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Derive score, Hessian and the closed-form Fisher information.
    #[command(
        after_help = "Examples:\n  fimkit derive examples/gamma.fim\n  fimkit derive examples/normal.fim --format json\n  fimkit derive examples/beta.fim --format latex --standalone > beta.tex"
    )]
    Derive {
        /// The model file.
        model: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Plain ASCII instead of Unicode in formulas.
        #[arg(long)]
        ascii: bool,
        /// With --format latex: a complete .tex document.
        #[arg(long)]
        standalone: bool,
        /// Parameter (and covariate) values, NAME=VALUE,...: without a
        /// closed form, the numeric Fisher information there.
        #[arg(long, value_name = "NAME=VALUE,...")]
        at: Option<String>,
    },
    /// Verify a model numerically: normalisation, the Bartlett identities
    /// and the closed-form FIM against quadrature, at random or given points.
    #[command(
        after_help = "Examples:\n  fimkit check examples/gamma.fim\n  fimkit check model.fim --points 5\n  fimkit check model.fim --at mu=0,sigma=2 --format json\n\n\
Exit codes: 0 every check passed, 1 a check failed or the model has errors, 2 usage or I/O error."
    )]
    Check {
        /// The model file.
        model: PathBuf,
        /// Number of random parameter points (inside the domains).
        #[arg(long, default_value_t = 3)]
        points: usize,
        /// Check at this point instead: NAME=VALUE,... for every parameter
        /// and covariate.
        #[arg(long, value_name = "NAME=VALUE,...")]
        at: Option<String>,
        /// Seed of the random points.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output format (text or json).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Parse and check a model; print the resolved model.
    #[command(
        after_help = "Examples:\n  fimkit parse examples/normal.fim\n  fimkit parse model.fim --format json"
    )]
    Parse {
        /// The model file.
        model: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ParseFormat::Text)]
        format: ParseFormat,
        /// Plain ASCII instead of Unicode in formulas.
        #[arg(long)]
        ascii: bool,
    },
}

/// Run the CLI and return the process exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    match cli.command {
        Command::Parse {
            model,
            format,
            ascii,
        } => parse_cmd(&model, format, ascii),
        Command::Derive {
            model,
            format,
            ascii,
            standalone,
            at,
        } => derive_cmd(&model, format, ascii, standalone, at.as_deref()),
        Command::Check {
            model,
            points,
            at,
            seed,
            format,
        } => check::check_cmd(&model, points, at.as_deref(), seed, format),
    }
}

fn read_model(path: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        ExitCode::from(EXIT_USAGE)
    })
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "model".to_string(), |s| s.to_string_lossy().into_owned())
}

/// Read and resolve a model, printing diagnostics; `None` if it has errors.
fn load_model(path: &Path, format: Format) -> Result<(fimkit::Model, String), ExitCode> {
    let source = read_model(path)?;
    let name = path.display().to_string();
    let loaded = fimkit::load_with_diagnostics(&source, &file_stem(path));
    if format == Format::Json && loaded.model.is_none() {
        let out = serde_json::json!({"ok": false, "diagnostics": to_json(&loaded.diagnostics, &name, &source)});
        println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    } else if !loaded.diagnostics.is_empty() {
        let style = DiagnosticStyle {
            color: std::io::stderr().is_terminal(),
        };
        eprint!(
            "{}",
            render_human(&loaded.diagnostics, &name, &source, style)
        );
    }
    match loaded.model {
        Some(m) => Ok((m, source)),
        None => Err(ExitCode::from(EXIT_MODEL_ERROR)),
    }
}

fn derive_cmd(
    path: &Path,
    format: Format,
    ascii: bool,
    standalone: bool,
    at: Option<&str>,
) -> ExitCode {
    let (model, _source) = match load_model(path, format) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let config = fimkit::fisher::DeriveConfig::default();
    let derivation = fimkit::fisher::derive(&model, &config);
    // No closed form: tier 2 or 3 at the given point.
    let fallback = match (at, &derivation.fisher) {
        (Some(at), Err(_)) => match check::numeric_fallback(&model, at) {
            Ok(f) => Some(f),
            Err(msg) => {
                eprintln!("error: {msg}");
                return ExitCode::from(EXIT_USAGE);
            }
        },
        _ => None,
    };
    let coords = fimkit::fisher::derive_coords(&model, &derivation, &config);
    use fimkit::render::derivation as report;
    match format {
        Format::Json => {
            let mut out = report::derivation_json(&model, &derivation, &coords);
            if let Some(f) = &fallback {
                check::fallback_json(f, &mut out);
            }
            println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
        }
        Format::Latex => print!(
            "{}",
            report::derivation_latex(&model, &derivation, &coords, standalone)
        ),
        Format::Text => {
            let style = if ascii {
                TextStyle::ascii()
            } else {
                TextStyle::unicode()
            };
            let mut text = report::derivation_text(&model, &derivation, &style);
            if let Some(f) = &fallback {
                text.push_str(&check::fallback_text(f, &style));
            }
            text.push_str(&report::coords_text(&model, &coords, &style));
            print!("{text}");
        }
    }
    match fallback {
        Some(f) if !f.ok() => ExitCode::from(EXIT_MODEL_ERROR),
        _ => ExitCode::SUCCESS,
    }
}

fn parse_cmd(path: &Path, format: ParseFormat, ascii: bool) -> ExitCode {
    let source = match read_model(path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let name = path.display().to_string();
    let loaded = fimkit::load_with_diagnostics(&source, &file_stem(path));
    match format {
        ParseFormat::Json => {
            let out = serde_json::json!({
                "ok": loaded.model.is_some(),
                "model": loaded.model.as_ref().map(model_json),
                "diagnostics": to_json(&loaded.diagnostics, &name, &source),
            });
            println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
        }
        ParseFormat::Text => {
            if !loaded.diagnostics.is_empty() {
                let style = DiagnosticStyle {
                    color: std::io::stderr().is_terminal(),
                };
                eprint!(
                    "{}",
                    render_human(&loaded.diagnostics, &name, &source, style)
                );
            }
            if let Some(m) = &loaded.model {
                let style = if ascii {
                    TextStyle::ascii()
                } else {
                    TextStyle::unicode()
                };
                print!("{}", model_text(m, &style));
            }
        }
    }
    if loaded.model.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_MODEL_ERROR)
    }
}
