//! Data files by format: CSV, TSV (either gzipped), Parquet, Arrow IPC.
//!
//! [`DataSchema::read_path`] picks the reader by the file's extension:
//!
//! | extension | format |
//! |---|---|
//! | `.csv`, `.csv.gz` | comma-separated text, header line first ([`DataSchema::read_csv`]) |
//! | `.tsv`, `.tsv.gz` | the same, tab-separated |
//! | `.parquet` | Apache Parquet (snappy, zstd or no compression) |
//! | `.arrow`, `.feather` | Arrow IPC, file format (Feather v2) or stream format (uncompressed, lz4 or zstd) |
//! | `-` | CSV on standard input |
//!
//! The columnar formats are read into a [`Table`] — the file's column
//! names, and for the columns the model uses, their numbers with nulls —
//! and checked row by row by the same code and with the same messages as
//! CSV ([`DataSchema::dataset_from_table`]); rows count from 1 as in
//! CSV, and there are no lines. Number columns are floats (16, 32, 64
//! bits), signed and unsigned integers and booleans (0/1); a null is a
//! missing value, reported as an empty CSV cell is. A column of any other
//! type (text, dictionary, date, …) is an error naming the column and its
//! type when the model uses it, and ignored when not. Columns are matched
//! to inputs by name as CSV headers are (`x[2]`, `x_2`, `x2`). Several row
//! groups or record batches are read in order.

use super::data::{DataError, DataSchema, Dataset};
use std::io::Read;
use std::path::Path;

/// The file formats [`DataSchema::read_path`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFormat {
    /// Delimited text (`b','` or `b'\t'`), gzipped or not; `-` is CSV on
    /// standard input.
    Delimited {
        /// The field separator.
        delimiter: u8,
        /// Gzip-compressed.
        gzip: bool,
    },
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC (file or stream format; Feather v2 is the file format).
    Arrow,
}

/// The extensions [`DataFormat::of`] accepts, for messages.
pub const ACCEPTED: &str =
    ".csv, .tsv, .csv.gz, .tsv.gz, .parquet, .arrow, .feather, or - for CSV on standard input";

impl DataFormat {
    /// The format of `path`, from its extension (case-insensitive).
    ///
    /// ```
    /// use fimkit::numeric::formats::DataFormat;
    /// use std::path::Path;
    /// assert_eq!(DataFormat::of(Path::new("a.TSV.gz")).unwrap(), DataFormat::Delimited { delimiter: b'\t', gzip: true });
    /// assert!(DataFormat::of(Path::new("a.xlsx")).unwrap_err().to_string().contains(".parquet"));
    /// ```
    pub fn of(path: &Path) -> Result<DataFormat, DataError> {
        if path.as_os_str() == "-" {
            return Ok(DataFormat::Delimited {
                delimiter: b',',
                gzip: false,
            });
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let (stem, gzip) = match name.strip_suffix(".gz") {
            Some(s) => (s, true),
            None => (name.as_str(), false),
        };
        let ext = Path::new(stem)
            .extension()
            .map(|e| e.to_string_lossy().into_owned());
        let format = match (ext.as_deref(), gzip) {
            (Some("csv"), _) => DataFormat::Delimited {
                delimiter: b',',
                gzip,
            },
            (Some("tsv"), _) => DataFormat::Delimited {
                delimiter: b'\t',
                gzip,
            },
            (Some("parquet"), false) => DataFormat::Parquet,
            (Some("arrow" | "feather"), false) => DataFormat::Arrow,
            _ => {
                return Err(DataError::Io(format!(
                    "{}: unknown data file type (accepted: {ACCEPTED})",
                    path.display()
                )));
            }
        };
        Ok(format)
    }
}

/// Open a delimited file (or standard input for `-`), gunzipped when the
/// format says so.
pub fn open_delimited(path: &Path, gzip: bool) -> Result<Box<dyn Read>, DataError> {
    if path.as_os_str() == "-" {
        use std::io::IsTerminal;
        let stdin = std::io::stdin();
        // Waiting for typed CSV is never what was meant.
        if stdin.is_terminal() {
            return Err(DataError::Io(
                "-: standard input is a terminal; pipe the CSV in (fimkit ... --data - < file.csv)"
                    .into(),
            ));
        }
        return Ok(Box::new(stdin.lock()));
    }
    let file =
        std::fs::File::open(path).map_err(|e| DataError::Io(format!("{}: {e}", path.display())))?;
    let file = std::io::BufReader::new(file);
    Ok(if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

/// One column of a [`Table`].
#[derive(Clone, Debug, PartialEq)]
pub enum TableColumn {
    /// Numbers; `None` is a null (a missing value).
    Numbers(Vec<Option<f64>>),
    /// Text cells; `None` is a null.
    Text(Vec<Option<String>>),
    /// A type fimkit does not read, by its name (`Date32`, `Dictionary(…)`).
    Other(String),
    /// Not read (no input uses it).
    Skipped,
}

impl TableColumn {
    /// The column's type as a message names it.
    pub fn type_name(&self) -> String {
        match self {
            TableColumn::Numbers(_) => "number".into(),
            TableColumn::Text(_) => "text (Utf8)".into(),
            TableColumn::Other(t) => t.clone(),
            TableColumn::Skipped => "not read".into(),
        }
    }
}

/// A columnar file as fimkit reads it: every column's name (the header)
/// and the columns that were asked for, converted; the others
/// [`TableColumn::Skipped`].
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names in file order.
    pub header: Vec<String>,
    /// One per header name.
    pub columns: Vec<TableColumn>,
    /// Number of rows.
    pub n_rows: usize,
}

impl DataSchema {
    /// Read a data file of any accepted format, chosen by its extension
    /// (see [`crate::numeric::formats`]); `-` reads CSV from standard
    /// input. The errors of a CSV file are those of
    /// [`DataSchema::read_csv_path`].
    pub fn read_path(&self, path: &Path) -> Result<Dataset, DataError> {
        match DataFormat::of(path)? {
            DataFormat::Delimited {
                delimiter: b',',
                gzip: false,
            } if path.as_os_str() != "-" => self.read_csv_path(path),
            DataFormat::Delimited { delimiter, gzip } => {
                let reader = open_delimited(path, gzip)?;
                self.read_delimited(reader, delimiter).map_err(|e| match e {
                    DataError::Io(m) if path.as_os_str() != "-" => {
                        DataError::Io(format!("{}: {m}", path.display()))
                    }
                    e => e,
                })
            }
            DataFormat::Parquet | DataFormat::Arrow => {
                let table = read_table(path, &|header| self.header_columns(header))?;
                self.dataset_from_table(&table, None)
            }
        }
    }

    /// Check a [`Table`]'s rows (all of them, or those of `keep`, indices
    /// from 0) and keep the model's columns. A null is reported as an
    /// empty CSV cell; a column of another type than numbers as
    /// [`DataError::ColumnType`]. Rows are numbered from 1 in the table,
    /// so an error in a kept row names its row in the file.
    pub fn dataset_from_table(
        &self,
        table: &Table,
        keep: Option<&[usize]>,
    ) -> Result<Dataset, DataError> {
        let source = self.header_columns(&table.header)?;
        let names = self.names();
        let mut columns = Vec::with_capacity(source.len());
        for (i, &k) in source.iter().enumerate() {
            match &table.columns[k] {
                TableColumn::Numbers(v) => columns.push(v.as_slice()),
                other => {
                    return Err(DataError::ColumnType {
                        name: names[i].clone(),
                        header: table.header[k].clone(),
                        type_name: other.type_name(),
                    });
                }
            }
        }
        let all: Vec<usize>;
        let rows = match keep {
            Some(k) => k,
            None => {
                all = (0..table.n_rows).collect();
                &all
            }
        };
        if rows.is_empty() {
            return Err(DataError::Empty);
        }
        let w = self.width();
        let mut values = Vec::with_capacity(rows.len() * w);
        let mut row = vec![0.0; w];
        for &r in rows {
            for (i, col) in columns.iter().enumerate() {
                row[i] = col[r].ok_or_else(|| DataError::NotANumber {
                    line: None,
                    row: r + 1,
                    column: names[i].clone(),
                    text: String::new(),
                })?;
            }
            self.check_at(&row, r + 1)?;
            values.extend_from_slice(&row);
        }
        Ok(self.wrap(values, rows.len()))
    }
}

/// Given a file's header, the columns to read.
pub type Wanted<'a> = &'a dyn Fn(&[String]) -> Result<Vec<usize>, DataError>;

/// Read the Parquet or Arrow file at `path` into a [`Table`]: `wanted`
/// gets the header and gives the columns to convert (others are
/// [`TableColumn::Skipped`] and not read from the file).
pub fn read_table(path: &Path, wanted: Wanted) -> Result<Table, DataError> {
    match DataFormat::of(path)? {
        #[cfg(feature = "columnar")]
        DataFormat::Parquet => {
            columnar::guarded(path, "Parquet", || columnar::parquet(path, wanted))
        }
        #[cfg(feature = "columnar")]
        DataFormat::Arrow => columnar::guarded(path, "Arrow", || columnar::arrow(path, wanted)),
        #[cfg(not(feature = "columnar"))]
        DataFormat::Parquet | DataFormat::Arrow => {
            let _ = wanted;
            Err(DataError::Io(format!(
                "{}: this fimkit was built without Parquet and Arrow support (the `columnar` feature)",
                path.display()
            )))
        }
        DataFormat::Delimited { .. } => Err(DataError::Io(format!(
            "{}: not a Parquet or Arrow file",
            path.display()
        ))),
    }
}

#[cfg(feature = "columnar")]
mod columnar {
    use super::{DataError, Table, TableColumn, Wanted};
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
        UInt8Type, UInt16Type, UInt32Type, UInt64Type,
    };
    use arrow_array::{Array, ArrayRef, RecordBatch};
    use arrow_schema::{ArrowError, DataType, Schema};
    use std::fs::File;
    use std::path::Path;

    thread_local! {
        /// Set while this thread reads a columnar file: its panics are
        /// caught and reported as errors, so the panic hook stays quiet.
        static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Run a reader of damaged input that may panic (the Parquet crate
    /// asserts on some corrupt metadata): a panic becomes an I/O error,
    /// and prints nothing.
    pub(super) fn guarded(
        path: &Path,
        what: &str,
        read: impl FnOnce() -> Result<Table, DataError>,
    ) -> Result<Table, DataError> {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if !GUARDED.with(|g| g.get()) {
                    previous(info);
                }
            }));
        });
        let was = GUARDED.with(|g| g.replace(true));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
        GUARDED.with(|g| g.set(was));
        result.unwrap_or_else(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the reader failed".into());
            Err(io(path, what, why))
        })
    }

    fn io(path: &Path, what: &str, e: impl std::fmt::Display) -> DataError {
        DataError::Io(format!(
            "{}: not a readable {what} file: {e}",
            path.display()
        ))
    }

    fn open(path: &Path) -> Result<File, DataError> {
        File::open(path).map_err(|e| DataError::Io(format!("{}: {e}", path.display())))
    }

    /// Can fimkit read a column of this type as numbers (or as text, for
    /// `--cluster`)?
    fn readable(t: &DataType) -> bool {
        use DataType::*;
        matches!(
            t,
            Float16
                | Float32
                | Float64
                | Int8
                | Int16
                | Int32
                | Int64
                | UInt8
                | UInt16
                | UInt32
                | UInt64
                | Boolean
                | Null
                | Utf8
                | LargeUtf8
                | Utf8View
        )
    }

    /// The header, the columns to read (sorted) and the table with every
    /// column still empty.
    fn plan(schema: &Schema, wanted: Wanted) -> Result<(Vec<usize>, Table), DataError> {
        let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let mut want = wanted(&header)?;
        want.sort_unstable();
        want.dedup();
        let columns = (0..header.len())
            .map(|k| {
                let t = schema.field(k).data_type();
                if !want.contains(&k) {
                    TableColumn::Skipped
                } else if !readable(t) {
                    TableColumn::Other(format!("{t}"))
                } else if matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
                    TableColumn::Text(Vec::new())
                } else {
                    TableColumn::Numbers(Vec::new())
                }
            })
            .collect();
        // Columns of a type fimkit does not read are not read at all.
        let read = want
            .into_iter()
            .filter(|&k| readable(schema.field(k).data_type()))
            .collect();
        Ok((
            read,
            Table {
                header,
                columns,
                n_rows: 0,
            },
        ))
    }

    /// Append a record batch holding the columns `read` (in that order).
    fn append(table: &mut Table, read: &[usize], batch: &RecordBatch) {
        for (j, &k) in read.iter().enumerate() {
            let a = batch.column(j);
            match &mut table.columns[k] {
                TableColumn::Numbers(v) => numbers(a, v),
                TableColumn::Text(v) => text(a, v),
                _ => {}
            }
        }
        table.n_rows += batch.num_rows();
    }

    fn numbers(a: &ArrayRef, out: &mut Vec<Option<f64>>) {
        macro_rules! prim {
            ($t:ty) => {
                out.extend(a.as_primitive::<$t>().iter().map(|v| v.map(|x| x as f64)))
            };
        }
        match a.data_type() {
            DataType::Float64 => out.extend(a.as_primitive::<Float64Type>().iter()),
            DataType::Float32 => prim!(Float32Type),
            DataType::Float16 => out.extend(
                a.as_primitive::<Float16Type>()
                    .iter()
                    .map(|v| v.map(f64::from)),
            ),
            DataType::Int8 => prim!(Int8Type),
            DataType::Int16 => prim!(Int16Type),
            DataType::Int32 => prim!(Int32Type),
            DataType::Int64 => prim!(Int64Type),
            DataType::UInt8 => prim!(UInt8Type),
            DataType::UInt16 => prim!(UInt16Type),
            DataType::UInt32 => prim!(UInt32Type),
            DataType::UInt64 => prim!(UInt64Type),
            DataType::Boolean => out.extend(
                a.as_boolean()
                    .iter()
                    .map(|v| v.map(|b| if b { 1.0 } else { 0.0 })),
            ),
            // A column of nulls (`DataType::Null`).
            _ => out.extend(std::iter::repeat_n(None, a.len())),
        }
    }

    fn text(a: &ArrayRef, out: &mut Vec<Option<String>>) {
        match a.data_type() {
            DataType::Utf8 => out.extend(a.as_string::<i32>().iter().map(|s| s.map(String::from))),
            DataType::LargeUtf8 => {
                out.extend(a.as_string::<i64>().iter().map(|s| s.map(String::from)))
            }
            _ => out.extend(a.as_string_view().iter().map(|s| s.map(String::from))),
        }
    }

    pub(super) fn parquet(path: &Path, wanted: Wanted) -> Result<Table, DataError> {
        use parquet::arrow::ProjectionMask;
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let what = "Parquet";
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(open(path)?).map_err(|e| io(path, what, e))?;
        let (read, mut table) = plan(builder.schema(), wanted)?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), read.iter().copied());
        let reader = builder
            .with_projection(mask)
            .build()
            .map_err(|e| io(path, what, e))?;
        for batch in reader {
            append(&mut table, &read, &batch.map_err(|e| io(path, what, e))?);
        }
        Ok(table)
    }

    pub(super) fn arrow(path: &Path, wanted: Wanted) -> Result<Table, DataError> {
        use arrow_ipc::reader::{FileReader, StreamReader};
        let what = "Arrow";
        let batches = |r: &mut dyn Iterator<Item = Result<RecordBatch, ArrowError>>,
                       table: &mut Table,
                       read: &[usize]|
         -> Result<(), DataError> {
            for batch in r {
                append(table, read, &batch.map_err(|e| io(path, what, e))?);
            }
            Ok(())
        };
        // The file format (Feather v2) starts with `ARROW1`: its schema,
        // then the columns wanted; anything else may be the stream format.
        let mut magic = [0u8; 6];
        let is_file =
            std::io::Read::read_exact(&mut open(path)?, &mut magic).is_ok() && &magic == b"ARROW1";
        if is_file {
            let probe =
                FileReader::try_new_buffered(open(path)?, None).map_err(|e| io(path, what, e))?;
            let (read, mut table) = plan(&probe.schema(), wanted)?;
            let mut reader = FileReader::try_new_buffered(open(path)?, Some(read.clone()))
                .map_err(|e| io(path, what, e))?;
            batches(&mut reader, &mut table, &read)?;
            return Ok(table);
        }
        let not_ipc = |e: ArrowError| {
            io(
                path,
                "Arrow IPC",
                format!("no ARROW1 file header, and not the stream format: {e}"),
            )
        };
        let probe = StreamReader::try_new_buffered(open(path)?, None).map_err(not_ipc)?;
        let (read, mut table) = plan(&probe.schema(), wanted)?;
        let mut reader = StreamReader::try_new_buffered(open(path)?, Some(read.clone()))
            .map_err(|e| io(path, what, e))?;
        batches(&mut reader, &mut table, &read)?;
        Ok(table)
    }
}
