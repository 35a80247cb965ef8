//! Command-line interface: argument parsing and output routing. Results go
//! to stdout, diagnostics and errors to stderr.
//!
//! Exit codes: 0 success, 1 the model has errors, 2 usage or I/O error,
//! 3 internal error, 4 `check` could not decide, 5 stopped by the time or
//! memory budget ([`budget`]). Every command returns
//! `Result<Report, Failure>` and [`report::finish`] alone prints it and
//! gives the exit code.

pub mod budget;
mod check;
mod codegen;
mod compare;
mod design;

use clap::{Parser, Subcommand, ValueEnum};
use fimkit::render::diagnostics::{DiagnosticStyle, render_human, to_json};
use fimkit::render::model::{model_json, model_text};
use fimkit::render::text::TextStyle;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod derive;
mod eval;
mod fit;
pub mod points;

mod report;

use report::{EXIT_MODEL_ERROR, EXIT_USAGE, Failure, Report};

/// `--quiet`: warnings and notes are not printed (errors and results are).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Colour on stderr: only on a terminal, and never when `NO_COLOR` is set
/// to a non-empty value (https://no-color.org).
fn stderr_color() -> bool {
    color_allowed(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// Colour for a stream: a terminal, and `NO_COLOR` unset or empty.
fn color_allowed(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// The diagnostics to show: all of them, or with `--quiet` only errors.
fn shown(diagnostics: &[fimkit::Diagnostic]) -> Vec<fimkit::Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| !quiet() || d.severity == fimkit::Severity::Error)
        .cloned()
        .collect()
}

#[derive(Parser, Debug)]
#[command(
    name = "fimkit",
    version,
    about = "Fisher information from a model file",
    long_about = "fimkit reads a statistical model written as a small text file and derives its score, \
Hessian and Fisher information matrix.",
    after_help = "Examples:\n  fimkit derive examples/gamma.fim\n  fimkit parse examples/gamma.fim --format json\n  \
fimkit codegen examples/normal.fim --lang python -o normal_fim.py\n  \
fimkit completions bash > ~/.local/share/bash-completion/completions/fimkit\n\n\
Results go to stdout; errors, warnings and notes to stderr (colour only on a terminal, never with NO_COLOR set).\n\n\
Exit codes: 0 success, 1 the model has errors, 2 usage or I/O error, 3 internal error, 4 check could not decide, 5 stopped by the time or memory budget (--budget, --memory-budget)."
)]
struct Cli {
    /// Print no warnings or notes on stderr (errors and results still appear).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Stop with exit code 5 after this many seconds of work, naming the
    /// stage (default 10; 0: no limit).
    #[arg(long, global = true, value_name = "SECONDS", env = "FIMKIT_BUDGET")]
    budget: Option<f64>,
    /// Stop with exit code 5 above this much memory, in MiB (default: half
    /// the machine's memory, at most 8192; 0: no limit).
    #[arg(long, global = true, value_name = "MIB", env = "FIMKIT_MEMORY_BUDGET")]
    memory_budget: Option<u64>,
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

/// Output formats of `parse` and `check`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ParseFormat {
    /// Readable text.
    Text,
    /// JSON for programs.
    Json,
}

// Parsed once per process: the size of the `fit` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Exact log-density, score and Hessian at a point, or log-likelihood,
    /// gradient, observed information and empirical Fisher over a data file.
    #[command(
        long_about = "Evaluate the model numerically at a parameter point, with exact derivatives (dual numbers).\n\n\
Without --data, --at gives the parameters AND the data/covariate values of one observation; \
eval prints the log-density, the score and the Hessian there.\n\n\
With --data FILE, --at gives the parameters only; eval prints the total log-likelihood, its gradient, \
the observed information (minus the summed Hessian) and the empirical Fisher information (sum of score outer products) over the file's rows.\n\n\
--at takes comma-separated name=value pairs (repeat the flag to add more); an indexed name is written alpha[2], \
or all its elements at once as alpha=[1,2,3]; values are numbers, pi or e.\n\n\
The data file (CSV, TSV, .csv.gz/.tsv.gz, Parquet or Arrow/Feather, by extension; - reads CSV from standard input) needs columns named for the model's data variables and covariates \
(x[2] may also be written x_2 or x2); other columns are ignored. Every value must be a finite number inside its variable's support.",
        after_help = "Examples:\n  fimkit eval examples/normal.fim --at mu=0,sigma=2,x=1.3\n  fimkit eval examples/gamma.fim --at alpha=2,beta=1 --at x=0.5 --format json\n  fimkit eval examples/dirichlet3.fim --at 'alpha=[1,2,3],x=[0.2,0.3,0.5]'\n  fimkit eval examples/logistic_regression.fim --at b0=0,b1=1,b2=-1 --data obs.csv\n\n\
Exit codes: 0 success, 1 model error or bad point or bad data, 2 usage or I/O error, 3 internal error."
    )]
    Eval {
        /// The model file.
        model: PathBuf,
        /// Parameter values (and, without --data, the data and covariate values): name=value,...
        #[arg(long, value_name = "NAME=VALUE,...", required = true)]
        at: Vec<String>,
        /// A data file of observations (CSV, TSV, .csv.gz/.tsv.gz, Parquet or Arrow/Feather, by extension; - reads CSV from standard input): sums over its rows.
        #[arg(long, value_name = "FILE")]
        data: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = eval::EvalFormat::Text)]
        format: eval::EvalFormat,
        /// Plain ASCII instead of Unicode brackets and symbols.
        #[arg(long)]
        ascii: bool,
    },
    /// Maximum likelihood on a data file: Fisher scoring, natural gradient, Newton or gradient descent.
    #[command(
        long_about = "Fit the model's parameters to the rows of a data file by maximum likelihood.\n\n\
Prints the estimates, standard errors from the expected (Fisher) information and from the observed information, \
z values, p-values and 95% Wald intervals, the log-likelihood, the iterations and why they stopped.\n\n\
Methods: fisher-scoring (default; steps F^-1 grad of size 1 with a line search), natural (natural gradient \
theta - lr F^-1 grad L with the KL trust region 1/2 d^T F d <= --max-kl per observation), newton (observed \
information), gd (plain gradient descent; --lr fixes the step, otherwise a line search picks it). \
Convergence: the Newton decrement sqrt(g^T F^-1 g), the distance to the maximum in standard errors, below --tol.\n\n\
The data file (CSV, TSV, .csv.gz/.tsv.gz, Parquet or Arrow/Feather, by extension; - reads CSV from standard input) needs columns named for the model's data variables and covariates \
(x[2] may also be written x_2 or x2).",
        after_help = "Examples:\n  fimkit fit examples/logistic_regression.fim --data obs.csv\n  fimkit fit examples/gamma.fim --data x.csv --method natural --max-kl 0.05 --trace trace.csv\n  fimkit fit examples/normal.fim --data x.csv --init mu=0,sigma=5 --plot fit.svg --format json\n\n\
Exit codes: 0 success, 1 model error, bad data, no estimate (separation, a boundary MLE, collinearity, divergence) or a fit that did not converge (its provisional report still printed, without tests), 2 usage or I/O error."
    )]
    Fit {
        /// The model file.
        model: PathBuf,
        /// A data file of observations (CSV, TSV, .csv.gz/.tsv.gz, Parquet or Arrow/Feather, by extension; - reads CSV from standard input).
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// The optimisation method.
        #[arg(long, value_enum, default_value_t = fit::MethodArg::FisherScoring)]
        method: fit::MethodArg,
        /// Step size (natural: default 1 before the trust region; gd: fixed step, default a line search).
        #[arg(long)]
        lr: Option<f64>,
        /// Natural gradient: largest quadratic KL divergence per observation of one step (default 0.01).
        #[arg(long)]
        max_kl: Option<f64>,
        /// Most iterations.
        #[arg(long, default_value_t = 100)]
        max_iter: usize,
        /// Stop when the Newton decrement (in standard errors) is below this.
        #[arg(long, default_value_t = 1e-8)]
        tol: f64,
        /// Starting values: name=value,... (others start at 0, 1 or mid-domain).
        #[arg(long, value_name = "NAME=VALUE,...")]
        init: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = fit::FitFormat::Text)]
        format: fit::FitFormat,
        /// Write the trajectory (theta, loss, KL per step) as CSV.
        #[arg(long, value_name = "FILE.csv")]
        trace: Option<PathBuf>,
        /// Draw log-likelihood contours, trajectories and the Wald ellipse (two parameters), or convergence curves (.svg or .png).
        #[arg(long, value_name = "FILE.svg|FILE.png")]
        plot: Option<PathBuf>,
        /// Plain ASCII output.
        #[arg(long)]
        ascii: bool,
        /// Print z values, p-values, stars and intervals even when the fit did not converge.
        #[arg(long)]
        show_unconverged_tests: bool,
        /// Confidence level of the intervals, between 0 and 1.
        #[arg(long, default_value_t = 0.95)]
        level: f64,
        /// Interval kind: wald (estimate ± z·SE) or profile (profile likelihood, for small samples and bounded parameters).
        #[arg(long, value_enum, default_value_t = fit::CiArg::Wald)]
        ci: fit::CiArg,
        /// Standard errors for z, p and Wald intervals: expected (Fisher) information, observed information, or sandwich (robust to misspecification).
        #[arg(long, value_enum, default_value_t = fit::SeArg::Expected)]
        se: fit::SeArg,
        /// With --se sandwich: sum the scores within the clusters of this column of the data file, numbers or text (cluster-robust errors).
        #[arg(long, value_name = "COL")]
        cluster: Option<String>,
        /// Frequency weights: row i counts w_i times (a column of finite numbers >= 0; statsmodels' freq_weights).
        #[arg(long, value_name = "COL")]
        weights: Option<String>,
        /// Rows with a missing value (empty, NA, NaN) in a column the fit uses: an error, or dropped (and counted).
        #[arg(long, value_enum, default_value_t = fit::NaArg::Error)]
        na: fit::NaArg,
        /// Predict at the rows of this CSV file (its covariate columns): the response's mean, with delta-method standard errors and intervals at --level.
        #[arg(long, value_name = "NEW.csv")]
        predict: Option<PathBuf>,
        /// With --predict: predict this top-level `let` of the model (or `linear`, the linear predictor) instead of the mean.
        #[arg(long, value_name = "NAME", requires = "predict")]
        predict_expr: Option<String>,
        /// With --predict: write the predictions as CSV to this file instead of a table in the text report.
        #[arg(long, value_name = "FILE", requires = "predict")]
        predict_out: Option<PathBuf>,
        /// Write per-row residuals (response, Pearson, deviance) of the fit's data as CSV to this file.
        #[arg(long, value_name = "FILE")]
        residuals: Option<PathBuf>,
    },
    /// Likelihood-ratio, score (Rao) and Wald tests of a small model nested in a big one.
    #[command(
        long_about = "Test a small model against a big one it is nested in, on the same data file.\n\n\
The small model's parameters must be parameters of the big one by name, and the big model with its extra \
parameters at 0 must give the small model's log-density on every row (checked at the small model's estimate, \
to 1e-10); otherwise compare refuses. Both models are fitted by maximum likelihood and must converge.\n\n\
Prints the likelihood-ratio statistic 2(l_big - l_small), the score (Rao) statistic S^T I^-1 S at the small \
estimate (the big model's score and information there), and the Wald statistic b^T Cov^-1 b of the big fit's \
extra estimates, each with its chi-square degrees of freedom (the number of extra parameters) and p-value.",
        after_help = "Examples:\n  fimkit compare small.fim big.fim --data obs.csv\n  fimkit compare small.fim big.fim --data obs.csv --format json\n\n\
Exit codes: 0 success, 1 model error, bad data, models not nested, a fit that failed or did not converge, 2 usage or I/O error."
    )]
    Compare {
        /// The small (null) model file.
        small: PathBuf,
        /// The big model file, which the small one is nested in.
        big: PathBuf,
        /// A data file of observations (CSV, TSV, .csv.gz/.tsv.gz, Parquet or Arrow/Feather, by extension; - reads CSV from standard input).
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = fit::FitFormat::Text)]
        format: fit::FitFormat,
        /// Most iterations of each fit.
        #[arg(long, default_value_t = 100)]
        max_iter: usize,
        /// Stop each fit when the Newton decrement (in standard errors) is below this.
        #[arg(long, default_value_t = 1e-8)]
        tol: f64,
        /// Frequency weights for both models: row i counts w_i times.
        #[arg(long, value_name = "COL")]
        weights: Option<String>,
        /// Rows with a missing value in a column a model uses: an error, or dropped (both models must keep the same rows).
        #[arg(long, value_enum, default_value_t = fit::NaArg::Error)]
        na: fit::NaArg,
    },
    /// Optimal experimental design: support points and weights for a criterion, certified by the equivalence theorem.
    #[command(
        long_about = "Find the optimal approximate design of an experiment at a parameter point: the covariate settings x_i and \
the share w_i of the observations at each that make the information M = sum w_i F(theta; x_i) best for a criterion \
(D: det M; A: tr M^-1; E: smallest eigenvalue; Ds:NAMES: the parameters named, the others nuisance; c:V1,V2,...: the variance of c^T theta-hat).\n\n\
The design space is a box (--space t=0.5..24, or dose=0..100,time=0.5..24), searched on a grid by the randomized exchange algorithm REX and then \
continuously (support points moved by Newton steps with exact derivatives in x, where F has a closed form), or a CSV file of candidate points \
(its columns that name covariates). Covariates not in the space must be fixed with --fixed NAME=VALUE.\n\n\
The certificate (General Equivalence Theorem): the sensitivity psi(x) is 1 at the support of an optimal design and at most 1 everywhere; \
its maximum over the space bounds the efficiency from below (efficiency >= 1/max psi). A design whose max psi exceeds 1 + --tol is printed, then refused (exit 1).",
        after_help = "Examples:\n  fimkit design model.fim --at a=0,b=1 --space x=-5..5 --criterion D\n  fimkit design pk.fim --at ka=1,ke=0.2,V=10 --space t=0.25..24 --criterion D --compare current.csv\n  fimkit design model.fim --at a=0,b=1 --space candidates.csv --criterion c:0,1 --format json\n\n\
Exit codes: 0 a certified design, 1 model error, bad point, a singular problem or a design that is not certified, 2 usage or I/O error."
    )]
    Design {
        /// The model file.
        model: PathBuf,
        /// The parameter point: name=value,... (not needed with --prior)
        #[arg(long, value_name = "NAME=VALUE,...", required_unless_present = "prior")]
        at: Vec<String>,
        /// The design space: a box name=lo..hi[,name=lo..hi] or a CSV file of candidate points.
        #[arg(long, value_name = "BOX|FILE.csv")]
        space: String,
        /// The criterion: D, A, E, Ds:NAME,... or c:V1,V2,...
        #[arg(long, default_value = "D")]
        criterion: String,
        /// Covariates held fixed: name=value,...
        #[arg(long, value_name = "NAME=VALUE,...")]
        fixed: Vec<String>,
        /// Grid points per covariate of a box (default 2001 in one dimension, 201 in two, about 10^5 in all beyond).
        #[arg(long, value_name = "N")]
        grid: Option<usize>,
        /// Certified when the maximum sensitivity is at most 1 + TOL.
        #[arg(long, default_value_t = 1e-6)]
        tol: f64,
        /// A CSV of your design (covariate columns, optional `weight`): its efficiency relative to the optimum.
        #[arg(long, value_name = "FILE.csv")]
        compare: Option<PathBuf>,
        /// Also an exact design of N runs (efficient rounding, then exchanges), with its efficiency.
        #[arg(long, value_name = "N")]
        runs: Option<usize>,
        /// Draw the sensitivity function with the support points (.svg or .png).
        #[arg(long, value_name = "FILE.svg|FILE.png")]
        plot: Option<PathBuf>,
        /// Samples of θ (a CSV with one column per parameter): the Bayesian D-optimal design, maximising E[log det M] over them (--at is then not needed).
        #[arg(long, value_name = "FILE.csv")]
        prior: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = design::DesignFormat::Text)]
        format: design::DesignFormat,
    },
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
        /// Also give the numbers at a parameter point, e.g. --at mu=0,sigma=2
        /// (with covariates, their values too).
        #[arg(long, value_name = "NAME=VALUE,...")]
        at: Vec<String>,
        /// With --at: the Fisher information of this data file's rows (the
        /// sum of the per-row closed form over the covariates; CSV, TSV, .csv.gz/.tsv.gz, Parquet or Arrow/Feather, by extension; - reads CSV from standard input).
        #[arg(long, value_name = "FILE", requires = "at")]
        data: Option<PathBuf>,
        /// Only the Fisher information (also in each coordinates block),
        /// with its exponential-family report and check: no score,
        /// Hessian, det F, F⁻¹, Jeffreys prior or natural gradient
        /// (4–34× faster).
        #[arg(long)]
        fim_only: bool,
    },
    /// Verify a model numerically: normalisation, the Bartlett identities
    /// and the closed-form FIM against quadrature, at random or given points.
    #[command(
        after_help = "Examples:\n  fimkit check examples/gamma.fim\n  fimkit check model.fim --points 5\n  fimkit check model.fim --at mu=0,sigma=2 --format json\n\n\
Exit codes: 0 every check passed, 1 a check failed or the model has errors, 2 usage or I/O error, 4 no check failed but some could not be decided."
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
        /// Output format.
        #[arg(long, value_enum, default_value_t = ParseFormat::Text)]
        format: ParseFormat,
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
    /// Generate code: log-density, score, Hessian and Fisher information as
    /// standalone functions for other engines.
    #[command(after_help = codegen::AFTER_HELP)]
    Codegen {
        /// The model file.
        model: PathBuf,
        /// Target language.
        #[arg(long, value_enum)]
        lang: codegen::LangArg,
        /// Write the code to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Generate in these alternative coordinates (a `coords` block).
        #[arg(long)]
        coords: Option<String>,
        /// Prefix of the function names (default: the model name for C, none otherwise).
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Print a shell completion script.
    #[command(after_help = codegen::COMPLETIONS_HELP)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// Is the command's output JSON? Then an error is also a JSON
    /// document on stdout ([`report::finish`]).
    fn json(&self) -> bool {
        match self {
            Command::Eval { format, .. } => *format == eval::EvalFormat::Json,
            Command::Fit { format, .. } | Command::Compare { format, .. } => {
                *format == fit::FitFormat::Json
            }
            Command::Derive { format, .. } => *format == Format::Json,
            Command::Design { format, .. } => *format == design::DesignFormat::Json,
            Command::Check { format, .. } | Command::Parse { format, .. } => {
                *format == ParseFormat::Json
            }
            Command::Codegen { .. } | Command::Completions { .. } => false,
        }
    }
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
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    budget::set(
        cli.budget.unwrap_or_else(budget::default_seconds),
        cli.memory_budget.unwrap_or_else(budget::default_memory_mib),
    );
    let json = cli.command.json();
    let result = match cli.command {
        Command::Codegen {
            model,
            lang,
            output,
            coords,
            prefix,
        } => codegen::codegen_cmd(&model, lang, output.as_deref(), coords, prefix),
        Command::Completions { shell } => codegen::completions_cmd(shell),
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
            data,
            fim_only,
        } => derive::derive_cmd(&derive::DeriveArgs {
            model: &model,
            format,
            ascii,
            standalone,
            at: &at,
            data: data.as_deref(),
            fim_only,
        }),
        Command::Fit {
            model,
            data,
            method,
            lr,
            max_kl,
            max_iter,
            tol,
            init,
            format,
            trace,
            plot,
            ascii,
            show_unconverged_tests,
            level,
            ci,
            se,
            cluster,
            weights,
            na,
            predict,
            predict_expr,
            predict_out,
            residuals,
        } => fit::fit_cmd(&fit::FitArgs {
            model: &model,
            data: &data,
            method,
            lr,
            max_kl,
            max_iter,
            tol,
            init: &init,
            format,
            trace: trace.as_ref(),
            plot: plot.as_ref(),
            ascii,
            show_unconverged_tests,
            level,
            ci,
            se,
            cluster: cluster.as_deref(),
            weights: weights.as_deref(),
            na,
            predict: predict.as_deref(),
            predict_expr: predict_expr.as_deref(),
            predict_out: predict_out.as_deref(),
            residuals: residuals.as_deref(),
        }),
        Command::Compare {
            small,
            big,
            data,
            format,
            max_iter,
            tol,
            weights,
            na,
        } => compare::compare_cmd(&compare::CompareArgs {
            small: &small,
            big: &big,
            data: &data,
            format,
            max_iter,
            tol,
            weights: weights.as_deref(),
            na,
        }),
        Command::Design {
            model,
            at,
            space,
            criterion,
            fixed,
            grid,
            tol,
            compare,
            runs,
            plot,
            prior,
            format,
        } => design::design_cmd(&design::DesignArgs {
            model: &model,
            at: &at,
            space: &space,
            criterion: &criterion,
            fixed: &fixed,
            grid,
            tol,
            compare: compare.as_deref(),
            runs,
            plot: plot.as_ref(),
            prior: prior.as_deref(),
            format,
        }),
        Command::Eval {
            model,
            at,
            data,
            format,
            ascii,
        } => eval::eval_cmd(&eval::EvalArgs {
            model: &model,
            at: &at,
            data: data.as_deref(),
            format,
            ascii,
        }),
        Command::Check {
            model,
            points,
            at,
            seed,
            format,
        } => {
            let format = match format {
                ParseFormat::Text => Format::Text,
                ParseFormat::Json => Format::Json,
            };
            check::check_cmd(&model, points, at.as_deref(), seed, format)
        }
    };
    report::finish(result, json)
}

/// The model file's text. A file that cannot be read is a usage error
/// (exit 2); one that is not UTF-8 is a model error (exit 1) reported at
/// the line and column of its first invalid byte.
fn read_model(path: &Path, format: Format) -> Result<String, Failure> {
    let bytes = std::fs::read(path).map_err(|e| {
        Failure::plain(
            EXIT_USAGE,
            format!("error: cannot read {}: {e}", path.display()),
        )
    })?;
    match fimkit::syntax::decode_source(&bytes) {
        Ok(_) => Ok(String::from_utf8(bytes).expect("checked to be UTF-8")),
        Err((text, d)) => {
            let name = path.display().to_string();
            let shown = if format == Format::Json {
                Report::output(diagnostics_json(
                    false,
                    None,
                    to_json(std::slice::from_ref(&d), &name, &text),
                ))
            } else {
                Report::default().with_notes(diagnostics_text(&[d], &name, &text))
            };
            Err(Failure::shown(EXIT_MODEL_ERROR, shown))
        }
    }
}

/// The diagnostics as the JSON document of a model that did not load (or,
/// from `parse`, one that did: then with the model).
fn diagnostics_json(
    ok: bool,
    model: Option<serde_json::Value>,
    diagnostics: serde_json::Value,
) -> String {
    let out = match model {
        Some(model) => serde_json::json!({
            "schema": fimkit::render::json::SCHEMA,
            "ok": ok,
            "model": model,
            "diagnostics": diagnostics,
        }),
        None => serde_json::json!({
            "schema": fimkit::render::json::SCHEMA,
            "ok": ok,
            "diagnostics": diagnostics,
        }),
    };
    format!("{}\n", serde_json::to_string_pretty(&out).expect("JSON"))
}

/// Diagnostics rendered for stderr (colour only on a terminal).
fn diagnostics_text(diagnostics: &[fimkit::Diagnostic], name: &str, source: &str) -> String {
    let style = DiagnosticStyle {
        color: stderr_color(),
    };
    render_human(diagnostics, name, source, style)
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "model".to_string(), |s| s.to_string_lossy().into_owned())
}

/// Read and resolve a model. Its warnings are printed at once (a command
/// stopped by its budget later still shows them); errors are the
/// [`Failure`], shown as diagnostics (a JSON document with `--format
/// json`).
fn load_model(path: &Path, format: Format) -> Result<(fimkit::ir::Model, String), Failure> {
    let source = read_model(path, format)?;
    let name = path.display().to_string();
    let loaded = fimkit::load_with_diagnostics(&source, &file_stem(path));
    let shown_now = if format == Format::Json && loaded.model.is_none() {
        Report::output(diagnostics_json(
            false,
            None,
            to_json(&loaded.diagnostics, &name, &source),
        ))
    } else if !shown(&loaded.diagnostics).is_empty() {
        Report::default().with_notes(diagnostics_text(
            &shown(&loaded.diagnostics),
            &name,
            &source,
        ))
    } else {
        Report::default()
    };
    match loaded.model {
        Some(m) => {
            report::emit(&shown_now);
            Ok((m, source))
        }
        None => Err(Failure::shown(EXIT_MODEL_ERROR, shown_now)),
    }
}

/// `fimkit parse`: the resolved model (text or JSON) and its diagnostics.
fn parse_cmd(path: &Path, format: ParseFormat, ascii: bool) -> Result<Report, Failure> {
    let json = match format {
        ParseFormat::Json => Format::Json,
        ParseFormat::Text => Format::Text,
    };
    let source = read_model(path, json)?;
    let name = path.display().to_string();
    let loaded = fimkit::load_with_diagnostics(&source, &file_stem(path));
    let report = match format {
        ParseFormat::Json => Report::output(diagnostics_json(
            loaded.model.is_some(),
            Some(serde_json::json!(loaded.model.as_ref().map(model_json))),
            to_json(&loaded.diagnostics, &name, &source),
        )),
        ParseFormat::Text => {
            let mut report = Report::default();
            if !shown(&loaded.diagnostics).is_empty() {
                report.notes = diagnostics_text(&shown(&loaded.diagnostics), &name, &source);
            }
            if let Some(m) = &loaded.model {
                let style = if ascii {
                    TextStyle::ascii()
                } else {
                    TextStyle::unicode()
                };
                report.stdout = model_text(m, &style);
            }
            report
        }
    };
    if loaded.model.is_some() {
        Ok(report)
    } else {
        Err(Failure::shown(EXIT_MODEL_ERROR, report))
    }
}

#[cfg(test)]
mod tests {
    use super::color_allowed;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(color_allowed(true, None));
        assert!(
            color_allowed(true, Some(OsStr::new(""))),
            "empty NO_COLOR is unset"
        );
        assert!(!color_allowed(true, Some(OsStr::new("1"))));
        assert!(!color_allowed(false, None));
    }
}
