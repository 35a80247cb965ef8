//! What a command hands back, and the one place that prints it and turns
//! it into the process's exit code.
//!
//! Every command returns `Result<Report, Failure>`:
//!
//! * [`Report`]: the work is done. Its notes go to stderr, then its output
//!   to stdout; the exit code is 0, or 4 when `check` found no failure but
//!   could not decide every check ([`Report::undecided`]).
//! * [`Failure`]: the command failed, with its exit code class: 1 the
//!   model, the data or a point is wrong (or a check failed), 2 usage or
//!   I/O, 3 internal. A failure may carry output that is printed first (a
//!   check report with a failed check, a fit that did not converge).
//!
//! [`finish`] prints either and gives the exit code. Exit code 5 (the time
//! or memory budget) is not a command's result: the watchdog in
//! `src/main.rs` stops the worker mid-work ([`super::budget`]). Load
//! warnings are printed as soon as the model is read ([`emit`], from
//! `load_model`), so a command stopped by its budget still shows them.

use std::process::ExitCode;

/// Exit code: the model file has errors (or the data, a point, a check).
pub(crate) const EXIT_MODEL_ERROR: u8 = 1;
/// Exit code: bad usage or unreadable file.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code: a bug in fimkit.
pub(crate) const EXIT_INTERNAL: u8 = 3;
/// Exit code: `check` found no failure but could not decide every check.
pub(crate) const EXIT_UNDECIDED: u8 = 4;

/// A command's finished work: what it prints, and whether everything was
/// decided.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Notes and warnings for stderr, printed before the output.
    pub notes: String,
    /// The output for stdout, printed as it is.
    pub stdout: String,
    /// Exit code 4 instead of 0: nothing failed, but not everything could
    /// be decided (`check`).
    pub undecided: bool,
}

impl Report {
    /// A report whose output is `stdout`.
    pub(crate) fn output(stdout: impl Into<String>) -> Report {
        Report {
            stdout: stdout.into(),
            ..Report::default()
        }
    }

    /// The same report with `notes` for stderr (printed before the output).
    pub(crate) fn with_notes(mut self, notes: impl Into<String>) -> Report {
        self.notes = notes.into();
        self
    }
}

/// How a failure's message is shown.
#[derive(Debug)]
enum Message {
    /// `error: {message}` on stderr; with `--format json` also a JSON
    /// error document on stdout ([`print_json_error`]).
    Error(String),
    /// Printed on stderr as it is (a warning, or an error reported before
    /// the output format matters).
    Plain(String),
    /// Nothing more: the failure was already shown (the model's
    /// diagnostics, a report with a failed check).
    Shown,
}

/// A command that failed, with its exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    message: Message,
    /// Output printed before the message (a report whose verdict is a
    /// failure).
    output: Option<Report>,
}

impl Failure {
    fn new(code: u8, message: Message) -> Failure {
        Failure {
            code,
            message,
            output: None,
        }
    }

    /// Exit code 2: bad usage or I/O.
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure::new(EXIT_USAGE, Message::Error(message.into()))
    }

    /// Exit code 1: the model, the data or a point is wrong.
    pub(crate) fn model(message: impl Into<String>) -> Failure {
        Failure::new(EXIT_MODEL_ERROR, Message::Error(message.into()))
    }

    /// Exit code 3: a bug in fimkit.
    pub(crate) fn internal(message: impl Into<String>) -> Failure {
        Failure::new(EXIT_INTERNAL, Message::Error(message.into()))
    }

    /// Exit code `code`, with `message` printed on stderr as it is and no
    /// JSON document.
    pub(crate) fn plain(code: u8, message: impl Into<String>) -> Failure {
        Failure::new(code, Message::Plain(message.into()))
    }

    /// Exit code `code` after `output`, with nothing more to say (the
    /// output says why: diagnostics, a failed check).
    pub(crate) fn shown(code: u8, output: Report) -> Failure {
        Failure {
            code,
            message: Message::Shown,
            output: Some(output),
        }
    }

    /// The same failure, with `output` printed before its message.
    pub(crate) fn after(mut self, output: Report) -> Failure {
        self.output = Some(output);
        self
    }
}

/// Print a report: its notes on stderr, then its output on stdout.
pub(crate) fn emit(report: &Report) {
    if !report.notes.is_empty() {
        eprint!("{}", report.notes);
    }
    if !report.stdout.is_empty() {
        print!("{}", report.stdout);
    }
}

/// The one place a command's result is printed and becomes the exit code.
/// `json`: the command's output format is JSON, so an error is also a
/// JSON document on stdout.
pub(crate) fn finish(result: Result<Report, Failure>, json: bool) -> ExitCode {
    match result {
        Ok(report) => {
            emit(&report);
            ExitCode::from(if report.undecided { EXIT_UNDECIDED } else { 0 })
        }
        Err(failure) => {
            if let Some(output) = &failure.output {
                emit(output);
            }
            match &failure.message {
                Message::Error(message) => {
                    if json {
                        print_json_error(message);
                    }
                    eprintln!("error: {message}");
                }
                Message::Plain(message) => eprintln!("{message}"),
                Message::Shown => {}
            }
            ExitCode::from(failure.code)
        }
    }
}

/// With `--format json`, an error after the model loaded is also a JSON
/// document on stdout: `{"schema", "ok": false, "error"}` (the message
/// still goes to stderr too).
fn print_json_error(message: &str) {
    let out = serde_json::json!({
        "schema": fimkit::render::json::SCHEMA,
        "ok": false,
        "error": message,
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_by_class() {
        assert_eq!(finish(Ok(Report::output("")), false), ExitCode::from(0));
        let undecided = Report {
            undecided: true,
            ..Report::default()
        };
        assert_eq!(finish(Ok(undecided), false), ExitCode::from(4));
        assert_eq!(finish(Err(Failure::model("m")), false), ExitCode::from(1));
        assert_eq!(finish(Err(Failure::usage("u")), false), ExitCode::from(2));
        assert_eq!(
            finish(Err(Failure::internal("i")), false),
            ExitCode::from(3)
        );
        assert_eq!(
            finish(Err(Failure::shown(1, Report::default())), false),
            ExitCode::from(1)
        );
        assert_eq!(
            finish(Err(Failure::plain(2, "p")), false),
            ExitCode::from(2)
        );
    }
}
