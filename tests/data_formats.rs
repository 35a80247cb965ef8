//! Every `--data` reads CSV, TSV, gzipped CSV/TSV, Parquet, Arrow IPC and
//! CSV on standard input, and each gives byte for byte the output of the
//! same data as CSV (`fit`, `eval --data`, `derive --at --data`, with
//! `--weights`, `--cluster` and `--na drop`); bad values in a columnar file
//! get the CSV's messages (row and column named, rows from 1), and bad
//! files a clear message with exit code 2, never a panic. The Parquet and
//! Arrow files are written here, with the same crates.
#![cfg(feature = "columnar")]

use arrow_array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray, UInt8Array,
};
use arrow_ipc::CompressionType;
use arrow_ipc::writer::{FileWriter, IpcWriteOptions};
use arrow_schema::{Field, Schema};
use fimkit::numeric::DataSchema;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run fimkit with `stdin` piped in (when given).
fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fimkit"))
        .current_dir(root())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fimkit runs");
    if let Some(bytes) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(bytes)
            .expect("pipe");
    }
    child.wait_with_output().expect("fimkit ends")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A CSV file as header and cells.
fn read_cells(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let mut columns = vec![Vec::new(); header.len()];
    for rec in r.records() {
        let rec = rec.expect("record");
        for (k, cell) in rec.iter().enumerate() {
            columns[k].push(cell.trim().to_string());
        }
    }
    (header, columns)
}

fn is_missing(cell: &str) -> bool {
    cell.is_empty() || ["na", "n/a", "null"].contains(&cell.to_ascii_lowercase().as_str())
}

/// The column as Arrow would hold it: integers as Int64, other numbers
/// as Float64 (a missing cell a null), anything else as text.
fn array(cells: &[String]) -> ArrayRef {
    if cells.iter().all(|c| c.parse::<i64>().is_ok()) {
        return Arc::new(Int64Array::from_iter_values(
            cells.iter().map(|c| c.parse::<i64>().expect("int")),
        ));
    }
    if cells
        .iter()
        .all(|c| is_missing(c) || c.parse::<f64>().is_ok())
    {
        return Arc::new(Float64Array::from_iter(
            cells.iter().map(|c| c.parse::<f64>().ok()),
        ));
    }
    Arc::new(StringArray::from_iter(
        cells.iter().map(|c| (!c.is_empty()).then_some(c.as_str())),
    ))
}

/// The CSV file's rows as record batches of at most `rows` rows.
fn batches(header: &[String], columns: &[Vec<String>], rows: usize) -> Vec<RecordBatch> {
    let arrays: Vec<ArrayRef> = columns.iter().map(|c| array(c)).collect();
    let fields: Vec<Field> = header
        .iter()
        .zip(&arrays)
        .map(|(h, a)| Field::new(h, a.data_type().clone(), true))
        .collect();
    let whole = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch");
    let n = whole.num_rows();
    (0..n.div_ceil(rows))
        .map(|i| whole.slice(i * rows, rows.min(n - i * rows)))
        .collect()
}

fn write_parquet(path: &Path, batches: &[RecordBatch], compression: Compression) {
    let props = WriterProperties::builder()
        .set_compression(compression)
        // Several row groups.
        .set_max_row_group_row_count(Some(37))
        .build();
    let file = std::fs::File::create(path).expect("create");
    let mut w = ArrowWriter::try_new(file, batches[0].schema(), Some(props)).expect("writer");
    for b in batches {
        w.write(b).expect("write");
    }
    w.close().expect("close");
}

fn write_arrow_file(path: &Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).expect("create");
    let mut w = arrow_ipc::writer::FileWriter::try_new(file, &batches[0].schema()).expect("w");
    for b in batches {
        w.write(b).expect("write");
    }
    w.finish().expect("finish");
}

/// An Arrow IPC file with compressed buffers (pyarrow writes Feather
/// with lz4 by default).
fn write_arrow_compressed(path: &Path, batches: &[RecordBatch], c: CompressionType) {
    let file = std::fs::File::create(path).expect("create");
    let options = IpcWriteOptions::default()
        .try_with_compression(Some(c))
        .expect("options");
    let mut w = FileWriter::try_new_with_options(file, &batches[0].schema(), options).expect("w");
    for b in batches {
        w.write(b).expect("write");
    }
    w.finish().expect("finish");
}

fn write_arrow_stream(path: &Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).expect("create");
    let mut w = arrow_ipc::writer::StreamWriter::try_new(file, &batches[0].schema()).expect("w");
    for b in batches {
        w.write(b).expect("write");
    }
    w.finish().expect("finish");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

/// The CSV file `csv` in every other format, in `dir`: (path, label).
fn all_formats(dir: &Path, csv: &Path) -> Vec<PathBuf> {
    let (header, columns) = read_cells(csv);
    let bytes = std::fs::read(csv).expect("csv");
    let csv_text = text(&bytes);
    let tsv = csv_text.replace(',', "\t");
    let b = batches(&header, &columns, 23);
    assert!(b.len() > 2, "several record batches");
    let stem = csv
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .into_owned();
    let p = |ext: &str| dir.join(format!("{stem}.{ext}"));
    std::fs::write(p("tsv"), &tsv).expect("tsv");
    std::fs::write(p("csv.gz"), gzip(&bytes)).expect("gz");
    std::fs::write(p("tsv.gz"), gzip(tsv.as_bytes())).expect("gz");
    write_parquet(&p("parquet"), &b, Compression::UNCOMPRESSED);
    write_parquet(&p("snappy.parquet"), &b, Compression::SNAPPY);
    write_parquet(
        &p("zstd.parquet"),
        &b,
        Compression::ZSTD(ZstdLevel::default()),
    );
    write_arrow_file(&p("arrow"), &b);
    write_arrow_file(&p("feather"), &b);
    write_arrow_stream(&p("stream.arrow"), &b);
    write_arrow_compressed(&p("lz4.feather"), &b, CompressionType::LZ4_FRAME);
    write_arrow_compressed(&p("zstd.arrow"), &b, CompressionType::ZSTD);
    [
        "tsv",
        "csv.gz",
        "tsv.gz",
        "parquet",
        "snappy.parquet",
        "zstd.parquet",
        "arrow",
        "feather",
        "stream.arrow",
        "lz4.feather",
        "zstd.arrow",
    ]
    .iter()
    .map(|e| p(e))
    .collect()
}

/// The command's exit code, output and errors, `data` in them written
/// `shown`.
fn outcome(o: &Output, data: &str, shown: &str) -> (Option<i32>, String, String) {
    let clean = |s: String| s.replace(data, shown);
    (
        o.status.code(),
        clean(text(&o.stdout)),
        clean(text(&o.stderr)),
    )
}

/// `args` with `{}` for the data file: the same outcome for the CSV file
/// and every other format (the file's name aside), and for the CSV piped
/// to `--data -` (which names the data `-`).
fn same_as_csv(dir: &Path, csv: &str, args: &[&str]) {
    let csv_path = root().join(csv);
    let with = |data: &str| -> Vec<String> {
        args.iter()
            .map(|a| {
                if *a == "{}" {
                    data.to_string()
                } else {
                    a.to_string()
                }
            })
            .collect()
    };
    let call = |data: &str, stdin: Option<&[u8]>, shown: &str| {
        let a = with(data);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        outcome(&run(&a, stdin), data, shown)
    };
    let expected = call(csv, None, csv);
    assert_eq!(expected.0, Some(0), "{args:?} on {csv}: {}", expected.2);
    assert!(!expected.1.contains("NaN"));
    for other in all_formats(dir, &csv_path) {
        let shown = other.to_str().expect("utf8");
        assert_eq!(call(shown, None, csv), expected, "{args:?} on {shown}");
    }
    let bytes = std::fs::read(&csv_path).expect("csv");
    let expected_stdin = call(csv, None, "-");
    assert_eq!(
        call("-", Some(&bytes), "-"),
        expected_stdin,
        "{args:?} on stdin"
    );
}

#[test]
fn fit_eval_and_derive_give_the_csv_output_for_every_format() {
    let dir = tempfile::tempdir().expect("tmp");
    let models = [
        (
            "examples/logistic_regression.fim",
            "tests/data/fit/logistic.csv",
        ),
        (
            "examples/poisson_regression.fim",
            "tests/data/fit/poisson.csv",
        ),
    ];
    let at = "b0=0.1,b1=0.2,b2=-0.3";
    for (model, csv) in models {
        let d = dir.path();
        same_as_csv(d, csv, &["fit", model, "--data", "{}"]);
        same_as_csv(d, csv, &["fit", model, "--data", "{}", "--format", "json"]);
        same_as_csv(d, csv, &["eval", model, "--at", at, "--data", "{}"]);
        same_as_csv(d, csv, &["derive", model, "--at", at, "--data", "{}"]);
    }
    // Weights, clusters and missing values dropped, in a columnar file too.
    let model = "examples/logistic_regression.fim";
    for (csv, extra) in [
        (
            "tests/data/fit/logistic_weighted.csv",
            vec!["--weights", "w"],
        ),
        (
            "tests/data/fit/logistic_cluster.csv",
            vec!["--cluster", "g", "--se", "sandwich"],
        ),
        ("tests/data/fit/logistic_na.csv", vec!["--na", "drop"]),
    ] {
        let mut args = vec!["fit", model, "--data", "{}"];
        args.extend(extra);
        same_as_csv(dir.path(), csv, &args);
    }
}

/// Write one columnar file of named arrays, as Parquet and as Arrow.
fn columnar(dir: &Path, name: &str, cols: Vec<(&str, ArrayRef)>) -> [PathBuf; 2] {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let arrays = cols.into_iter().map(|(_, a)| a).collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch");
    let pq = dir.join(format!("{name}.parquet"));
    let ar = dir.join(format!("{name}.arrow"));
    write_parquet(&pq, std::slice::from_ref(&batch), Compression::SNAPPY);
    write_arrow_file(&ar, &[batch]);
    [pq, ar]
}

#[test]
fn every_number_type_reads_as_its_values() {
    // float32, int32, uint8 and boolean columns whose values f64 holds
    // exactly: the same numbers as the CSV.
    let dir = tempfile::tempdir().expect("tmp");
    let csv = dir.path().join("types.csv");
    std::fs::write(&csv, "z1,z2,y\n0.5,-2,1\n-1.25,3,0\n2,0,1\n0.75,7,0\n").expect("csv");
    let files = columnar(
        dir.path(),
        "types",
        vec![
            (
                "z1",
                Arc::new(Float32Array::from(vec![0.5f32, -1.25, 2.0, 0.75])) as ArrayRef,
            ),
            ("z2", Arc::new(Int32Array::from(vec![-2, 3, 0, 7]))),
            (
                "y",
                Arc::new(BooleanArray::from(vec![true, false, true, false])),
            ),
        ],
    );
    let [u8_pq, _] = columnar(
        dir.path(),
        "types_u8",
        vec![
            (
                "z1",
                Arc::new(Float64Array::from(vec![0.5, -1.25, 2.0, 0.75])) as ArrayRef,
            ),
            (
                "z2",
                Arc::new(Float64Array::from(vec![-2.0, 3.0, 0.0, 7.0])),
            ),
            ("y", Arc::new(UInt8Array::from(vec![1u8, 0, 1, 0]))),
        ],
    );
    let m = fimkit::load(
        &std::fs::read_to_string(root().join("examples/logistic_regression.fim")).expect("m"),
        "m",
    )
    .expect("model");
    let schema = DataSchema::from_model(&m);
    let want = schema.read_csv_path(&csv).expect("csv");
    for f in files.iter().chain([&u8_pq]) {
        assert_eq!(schema.read_path(f).expect("read"), want, "{}", f.display());
    }
}

/// fimkit's outcome on a file, its name replaced.
fn fails(args: &[&str], data: &Path) -> (Option<i32>, String) {
    let shown = data.to_str().expect("utf8");
    let mut a = args.to_vec();
    a.extend(["--data", shown]);
    let o = run(&a, None);
    assert!(o.stdout.is_empty() || !text(&o.stdout).contains("NaN"));
    let err = text(&o.stderr).replace(shown, "DATA");
    assert!(!err.contains("panicked"), "{err}");
    (o.status.code(), err)
}

fn snapshot(name: &str, text: &str) {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots/data_formats");
    s.set_prepend_module_to_snapshot(false);
    s.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn bad_values_name_the_row_and_column() {
    let dir = tempfile::tempdir().expect("tmp");
    let fit = ["fit", "examples/logistic_regression.fim"];
    let z = |v: Vec<Option<f64>>| Arc::new(Float64Array::from(v)) as ArrayRef;
    let ok = || z(vec![Some(0.1), Some(0.2), Some(0.3)]);
    let y = || Arc::new(Int64Array::from(vec![0, 1, 0])) as ArrayRef;
    let cases: Vec<(&str, Vec<(&str, ArrayRef)>)> = vec![
        (
            "null",
            vec![
                ("z1", ok()),
                ("z2", z(vec![Some(1.0), None, Some(2.0)])),
                ("y", y()),
            ],
        ),
        (
            "nan",
            vec![
                ("z1", z(vec![Some(0.5), Some(1.0), Some(f64::NAN)])),
                ("z2", ok()),
                ("y", y()),
            ],
        ),
        (
            "string_column",
            vec![
                ("z1", ok()),
                ("z2", ok()),
                ("y", Arc::new(StringArray::from(vec!["0", "1", "0"]))),
            ],
        ),
        (
            "outside_support",
            vec![
                ("z1", ok()),
                ("z2", ok()),
                ("y", Arc::new(Int64Array::from(vec![0, 1, 2]))),
            ],
        ),
        ("missing_column", vec![("z1", ok()), ("y", y())]),
    ];
    let mut report = String::new();
    for (name, cols) in cases {
        for f in columnar(dir.path(), name, cols) {
            let (code, err) = fails(&fit, &f);
            assert_eq!(code, Some(1), "{name}: {err}");
            let ext = f.extension().expect("ext").to_string_lossy().into_owned();
            report.push_str(&format!("{name}.{ext}: {err}"));
        }
    }
    snapshot("bad_values", &report);
    // The messages the CSV gives, less the line.
    assert!(report.contains("DATA: row 2, column `z2`: the cell is empty (a number is needed) (a missing value: --na drop drops the rows that have one)"), "{report}");
    assert!(
        report.contains("DATA: row 3, column `y`: 2 is outside the support of `y`, {0, 1}"),
        "{report}"
    );
    assert!(
        report.contains("column `y` (for `y`) has type text (Utf8)"),
        "{report}"
    );
}

#[test]
fn bad_files_are_io_errors_with_exit_code_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let eval = [
        "eval",
        "examples/logistic_regression.fim",
        "--at",
        "b0=0,b1=0,b2=0",
    ];
    let (header, columns) = read_cells(&root().join("tests/data/fit/logistic.csv"));
    let b = batches(&header, &columns, 50);
    let pq = d.join("good.parquet");
    write_parquet(&pq, &b, Compression::SNAPPY);
    let ar = d.join("good.arrow");
    write_arrow_file(&ar, &b);
    let mut files = Vec::new();
    // Cut at several places, and garbage with the right extension.
    for (src, ext) in [(&pq, "parquet"), (&ar, "arrow")] {
        let bytes = std::fs::read(src).expect("read");
        for (i, cut) in [0, 4, bytes.len() / 2, bytes.len() - 9, bytes.len() - 1]
            .into_iter()
            .enumerate()
        {
            let f = d.join(format!("truncated{i}.{ext}"));
            std::fs::write(&f, &bytes[..cut]).expect("write");
            files.push(f);
        }
        let mut flipped = bytes.clone();
        for k in (8..bytes.len() - 8).step_by(7) {
            flipped[k] ^= 0x5a;
        }
        let f = d.join(format!("corrupt.{ext}"));
        std::fs::write(&f, &flipped).expect("write");
        files.push(f);
    }
    let gz = d.join("not_gzip.csv.gz");
    std::fs::write(&gz, b"z1,z2,y\n1,2,0\n").expect("write");
    files.push(gz);
    let mut report = String::new();
    for f in &files {
        let (code, err) = fails(&eval, f);
        // A corrupt page may also decode to wrong values the support
        // check rejects (1); nothing else, and never a panic.
        assert!(matches!(code, Some(1 | 2)), "{}: {err}", f.display());
        if f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("truncated"))
        {
            assert_eq!(code, Some(2), "{}: {err}", f.display());
            assert!(err.contains("DATA: not a readable"), "{err}");
        }
        let name = f.file_name().expect("name").to_string_lossy().into_owned();
        if !name.starts_with("corrupt") {
            report.push_str(&format!("{name}: exit {code:?}: {err}"));
        }
    }
    // An unknown extension lists the accepted ones.
    let xlsx = d.join("data.xlsx");
    std::fs::write(&xlsx, b"z1,z2,y\n1,2,0\n").expect("write");
    let (code, err) = fails(&eval, &xlsx);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(".csv, .tsv, .csv.gz, .tsv.gz, .parquet, .arrow, .feather, or -"),
        "{err}"
    );
    report.push_str(&format!("data.xlsx: exit {code:?}: {err}"));
    snapshot("bad_files", &report);
}

/// Each CSV error fixture, as Parquet: the same message, without the
/// line (a columnar file has rows, not lines).
#[test]
fn csv_error_fixtures_as_parquet_give_the_same_messages() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut compared = 0;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/csv/err"))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    for path in paths {
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let (model, _) = stem.rsplit_once("__").expect("model__case");
        let model_path = if let Some(m) = model.strip_prefix("textbook__") {
            root().join(format!("tests/fixtures/textbook/{m}.fim"))
        } else {
            root().join(format!("examples/{model}.fim"))
        };
        let m = fimkit::load(&std::fs::read_to_string(&model_path).expect("model"), model)
            .expect("model loads");
        let schema = DataSchema::from_model(&m);
        let csv_err = schema
            .read_csv_path(&path)
            .expect_err("rejected")
            .to_string();
        // Ragged rows and empty files have no columnar twin.
        let records: Result<Vec<_>, _> = csv::Reader::from_path(&path)
            .expect("csv")
            .records()
            .collect();
        if !records.is_ok_and(|r| !r.is_empty()) {
            continue;
        }
        let (header, columns) = read_cells(&path);
        // A cell that is neither a number nor empty makes a text column:
        // a different message by design (the column's type is named).
        let typed = columns
            .iter()
            .all(|c| c.iter().all(|v| v.is_empty() || v.parse::<f64>().is_ok()));
        if !typed {
            continue;
        }
        let f = dir.path().join(format!("{stem}.parquet"));
        write_parquet(&f, &batches(&header, &columns, 1), Compression::SNAPPY);
        let err = schema.read_path(&f).expect_err("rejected").to_string();
        // `line 3 (row 2), ...` → `row 2, ...`.
        let expected = match csv_err.split_once(" (row ") {
            Some((line, rest)) if line.starts_with("line ") => {
                format!("row {rest}").replacen(')', "", 1)
            }
            _ => csv_err.clone(),
        };
        assert_eq!(err, expected, "{stem}");
        compared += 1;
    }
    assert!(compared >= 12, "only {compared} fixtures compared");
}

/// Damaged Parquet and Arrow files, read in this process: an error,
/// never a panic.
#[test]
fn damaged_columnar_files_never_panic() {
    let dir = tempfile::tempdir().expect("tmp");
    let (header, columns) = read_cells(&root().join("tests/data/fit/logistic.csv"));
    let b = batches(&header, &columns, 40);
    let m = fimkit::load(
        &std::fs::read_to_string(root().join("examples/logistic_regression.fim")).expect("m"),
        "m",
    )
    .expect("model");
    let schema = DataSchema::from_model(&m);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |k: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % k as u64) as usize
    };
    let mut panics = Vec::new();
    for ext in ["parquet", "arrow", "stream.arrow"] {
        let good = dir.path().join(format!("good.{ext}"));
        match ext {
            "parquet" => write_parquet(&good, &b, Compression::SNAPPY),
            "arrow" => write_arrow_file(&good, &b),
            _ => write_arrow_stream(&good, &b),
        }
        let bytes = std::fs::read(&good).expect("read");
        for case in 0..150 {
            let mut damaged = bytes.clone();
            match case % 3 {
                0 => damaged.truncate(next(bytes.len())),
                1 => {
                    for _ in 0..1 + next(4) {
                        let k = next(bytes.len());
                        damaged[k] ^= 1 << next(8);
                    }
                }
                _ => {
                    let k = next(bytes.len());
                    damaged[k] = [0, 0xff, 0x7f, 0x80][next(4)];
                }
            }
            let f = dir.path().join(format!("damaged.{ext}"));
            std::fs::write(&f, &damaged).expect("write");
            let got = std::panic::catch_unwind(|| schema.read_path(&f));
            match got {
                Err(_) => panics.push(format!("{ext} case {case}")),
                Ok(Ok(d)) => assert!(d.values().iter().all(|v| v.is_finite())),
                Ok(Err(e)) => assert!(!e.to_string().is_empty()),
            }
        }
    }
    assert!(panics.is_empty(), "panics: {panics:?}");
}

/// A dictionary or date column the model uses is refused with its type;
/// one it does not use is ignored. Text cluster labels work.
#[test]
fn other_column_types_are_named_or_ignored() {
    use arrow_array::{Date32Array, DictionaryArray, types::Int32Type};
    let dir = tempfile::tempdir().expect("tmp");
    let z = |v: Vec<f64>| Arc::new(Float64Array::from(v)) as ArrayRef;
    let dict: DictionaryArray<Int32Type> = vec!["0", "1", "0", "1"].into_iter().collect();
    let fit = ["fit", "examples/logistic_regression.fim"];
    for f in columnar(
        dir.path(),
        "dictionary",
        vec![
            ("z1", z(vec![0.1, 0.5, -0.3, 0.9])),
            ("z2", z(vec![1.0, -1.0, 0.5, 0.2])),
            ("y", Arc::new(dict.clone())),
        ],
    ) {
        let (code, err) = fails(&fit, &f);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(
                "column `y` (for `y`) has type Dictionary(Int32, Utf8); a number type is needed"
            ),
            "{err}"
        );
    }
    // Unused columns of any type, and text cluster labels.
    let csv = dir.path().join("clusters.csv");
    let (header, columns) = read_cells(&root().join("tests/data/fit/logistic_cluster.csv"));
    let g = header.iter().position(|h| h == "g").expect("g");
    let n = columns[0].len();
    let cell = |k: usize, r: usize| {
        if k == g {
            format!("school {}", columns[k][r])
        } else {
            columns[k][r].clone()
        }
    };
    let mut body = header.join(",") + "\n";
    body.extend((0..n).map(|r| {
        let row: Vec<String> = (0..header.len()).map(|k| cell(k, r)).collect();
        row.join(",") + "\n"
    }));
    std::fs::write(&csv, body).expect("csv");
    let mut cols: Vec<(&str, ArrayRef)> = header
        .iter()
        .zip(&columns)
        .map(|(h, c)| {
            let a: ArrayRef = if *h == "g" {
                Arc::new(StringArray::from_iter_values(
                    c.iter().map(|v| format!("school {v}")),
                ))
            } else {
                array(c)
            };
            (h.as_str(), a)
        })
        .collect();
    cols.push(("day", Arc::new(Date32Array::from(vec![19000; n]))));
    let labels: DictionaryArray<Int32Type> = (0..n).map(|_| "a").collect();
    cols.push(("label", Arc::new(labels)));
    let args = |data: &str| {
        run(
            &[
                "fit",
                "examples/logistic_regression.fim",
                "--data",
                data,
                "--cluster",
                "g",
                "--se",
                "sandwich",
            ],
            None,
        )
    };
    let want = args(csv.to_str().expect("utf8"));
    assert_eq!(want.status.code(), Some(0), "{}", text(&want.stderr));
    for f in columnar(dir.path(), "clusters", cols) {
        let got = args(f.to_str().expect("utf8"));
        assert_eq!(
            text(&got.stdout).replace(f.to_str().expect("utf8"), "DATA"),
            text(&want.stdout).replace(csv.to_str().expect("utf8"), "DATA"),
            "{}: {}",
            f.display(),
            text(&got.stderr)
        );
    }
}

/// `--data -` with nothing piped in: a message that says so.
#[test]
fn empty_standard_input_says_it_has_no_header() {
    let o = run(
        &[
            "eval",
            "examples/logistic_regression.fim",
            "--at",
            "b0=0,b1=0,b2=0",
            "--data",
            "-",
        ],
        Some(b""),
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "error: -: no column for `y`: the data has no header line (is it empty?)\n"
    );
}
