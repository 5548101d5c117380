//! Reading bulk inputs: JSONL, CSV (`id,text` header) and folders of `.txt`/`.md` files.
//!
//! Bulk runs must survive bad records: each record comes out as `Ok(Record)` or `Err(BadRecord)`
//! with its line number, so callers report and skip instead of dying. Reading is streaming for
//! JSONL and CSV, so a years-long backlog never has to fit in memory.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// One report to process.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Caller's id (file stem for folders; line number when a JSONL line has none).
    pub id: String,
    /// The report text.
    pub text: String,
    /// Gold primary label, when the input carries one (eval/train inputs).
    pub primary: Option<String>,
    /// Gold contributing labels, when present.
    pub contributing: Vec<String>,
    /// Gold `confidence` (`high`/`medium`), when present.
    pub confidence: Option<String>,
    /// The report's genre (`full`, `summary`, `excerpt`, ...), when the gold file gives one;
    /// `eval` breaks its figures down by it.
    pub kind: Option<String>,
    /// Gold timeline times (`timeline[].time`), when present; `None` entries are untimed steps.
    pub gold_times: Option<Vec<Option<String>>>,
}

/// A record that could not be read; reported and skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// 1-based line (JSONL), record (CSV) or file name (folders).
    pub location: String,
    /// What is wrong with it, one line.
    pub reason: String,
}

impl std::fmt::Display for BadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

#[derive(Deserialize)]
struct JsonRecord {
    id: Option<serde_json::Value>,
    text: serde_json::Value,
    primary: Option<String>,
    #[serde(default)]
    contributing: Option<Vec<String>>,
    confidence: Option<String>,
    kind: Option<String>,
    timeline: Option<Vec<GoldEntry>>,
}

#[derive(Deserialize)]
struct GoldEntry {
    time: Option<String>,
}

/// Input formats `label` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object a line.
    Jsonl,
    /// `id,text` header, RFC 4180 quoting.
    Csv,
    /// A folder of `.txt` / `.md` files, id = file stem.
    Folder,
}

/// Decides the format from the path: folders are folders, `.csv` is CSV, anything else JSONL.
pub fn detect_format(path: &Path) -> Result<Format> {
    let meta = fs::metadata(path).map_err(|e| Error::input_file(path, e))?;
    if meta.is_dir() {
        return Ok(Format::Folder);
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    Ok(if ext == "csv" { Format::Csv } else { Format::Jsonl })
}

/// Streams the records of `path`, whatever its format.
pub fn read(path: &Path) -> Result<Box<dyn Iterator<Item = Result<Record, BadRecord>>>> {
    match detect_format(path)? {
        Format::Jsonl => {
            let f = fs::File::open(path).map_err(|e| Error::input_file(path, e))?;
            Ok(Box::new(jsonl(BufReader::new(f))))
        }
        Format::Csv => {
            let f = fs::File::open(path).map_err(|e| Error::input_file(path, e))?;
            csv_records(f)
                .map(|it| Box::new(it) as Box<dyn Iterator<Item = _>>)
                .map_err(|reason| Error::input_file(path, reason))
        }
        Format::Folder => Ok(Box::new(folder(path)?.into_iter())),
    }
}

/// Parses JSONL records from any reader, line by line; invalid UTF-8 and bad JSON become
/// `BadRecord`s, blank lines are ignored.
pub fn jsonl<R: BufRead>(reader: R) -> impl Iterator<Item = Result<Record, BadRecord>> {
    let mut reader = reader;
    let mut lineno = 0usize;
    let mut buf = Vec::new();
    std::iter::from_fn(move || loop {
        buf.clear();
        lineno += 1;
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => {
                return Some(Err(BadRecord { location: format!("line {lineno}"), reason: e.to_string() }))
            }
        }
        let bad = |reason: String| Some(Err(BadRecord { location: format!("line {lineno}"), reason }));
        let Ok(line) = std::str::from_utf8(&buf) else {
            return bad("not valid UTF-8".into());
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        return match parse_json_record(line, lineno) {
            Ok(r) => Some(Ok(r)),
            Err(reason) => bad(reason),
        };
    })
}

fn parse_json_record(line: &str, lineno: usize) -> Result<Record, String> {
    let r: JsonRecord = serde_json::from_str(line).map_err(|e| format!("not a JSON record: {e}"))?;
    let text = match r.text {
        serde_json::Value::String(s) => s,
        other => return Err(format!("`text` must be a string, got {}", json_kind(&other))),
    };
    let id = match r.id {
        None | Some(serde_json::Value::Null) => format!("line-{lineno}"),
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(other) => return Err(format!("`id` must be a string or number, got {}", json_kind(&other))),
    };
    if text.trim().is_empty() {
        return Err(format!("record {id}: text is empty"));
    }
    Ok(Record {
        id,
        text,
        primary: r.primary,
        contributing: r.contributing.unwrap_or_default(),
        confidence: r.confidence,
        kind: r.kind,
        gold_times: r.timeline.map(|t| t.into_iter().map(|e| e.time).collect()),
    })
}

/// Names a JSON value's type for error messages.
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Parses CSV with an `id,text` header (extra columns ignored). Fails whole only when the header
/// is unusable; bad rows become `BadRecord`s.
pub fn csv_records<R: Read + 'static>(
    reader: R,
) -> Result<impl Iterator<Item = Result<Record, BadRecord>>, String> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = rdr.headers().map_err(|e| format!("cannot read CSV header: {e}"))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (Some(id_col), Some(text_col)) = (col("id"), col("text")) else {
        return Err(format!(
            "CSV header must name `id` and `text` columns, found {:?}",
            headers.iter().collect::<Vec<_>>()
        ));
    };
    Ok(rdr.into_records().map(move |row| {
        let row = row.map_err(|e| BadRecord {
            location: e.position().map(|p| format!("line {}", p.line())).unwrap_or_else(|| "record".into()),
            reason: format!("bad CSV row: {e}"),
        })?;
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        let location = format!("line {line}");
        let (Some(id), Some(text)) = (row.get(id_col), row.get(text_col)) else {
            return Err(BadRecord { location, reason: "row lacks the id or text column".into() });
        };
        if text.trim().is_empty() {
            return Err(BadRecord { location, reason: format!("record {id}: text is empty") });
        }
        Ok(Record {
            id: id.to_string(),
            text: text.to_string(),
            primary: None,
            contributing: Vec::new(),
            confidence: None,
            kind: None,
            gold_times: None,
        })
    }))
}

/// Reads every `.txt`/`.md` file of a folder (not recursive), sorted by name for stable order.
pub fn folder(dir: &Path) -> Result<Vec<Result<Record, BadRecord>>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| Error::input_file(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("txt") || e.eq_ignore_ascii_case("md"))
        })
        .collect();
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|p| {
            let location = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let id = p.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let bytes =
                fs::read(&p).map_err(|e| BadRecord { location: location.clone(), reason: e.to_string() })?;
            let text = String::from_utf8(bytes)
                .map_err(|_| BadRecord { location: location.clone(), reason: "not valid UTF-8".into() })?;
            if text.trim().is_empty() {
                return Err(BadRecord { location, reason: "file is empty".into() });
            }
            Ok(Record {
                id,
                text,
                primary: None,
                contributing: Vec::new(),
                confidence: None,
                kind: None,
                gold_times: None,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_reports_bad_lines_with_numbers_and_keeps_good_ones() {
        let input = b"{\"id\":\"a\",\"text\":\"x\"}\nnot json\n\n{\"id\":2,\"text\":\"y\"}\n\xff\xfe\n{\"id\":\"c\",\"text\":5}\n";
        let out: Vec<_> = jsonl(&input[..]).collect();
        assert_eq!(out.len(), 5);
        assert_eq!(out[0].as_ref().unwrap().id, "a");
        assert_eq!(out[1].as_ref().unwrap_err().location, "line 2");
        assert_eq!(out[2].as_ref().unwrap().id, "2");
        assert!(out[3].as_ref().unwrap_err().reason.contains("UTF-8"));
        assert!(out[4].as_ref().unwrap_err().reason.contains("a number"));
    }

    #[test]
    fn jsonl_reads_gold_fields() {
        let input = br#"{"id":"g","text":"t","primary":"deployment","contributing":["config_change"],"confidence":"high","kind":"summary","timeline":[{"time":"9:04 AM"},{"time":null}]}"#;
        let r = jsonl(&input[..]).next().unwrap().unwrap();
        assert_eq!(r.primary.as_deref(), Some("deployment"));
        assert_eq!(r.contributing, ["config_change"]);
        assert_eq!(r.gold_times, Some(vec![Some("9:04 AM".into()), None]));
        assert_eq!(r.kind.as_deref(), Some("summary"));
    }

    #[test]
    fn csv_with_quoted_multiline_fields() {
        let input = "id,text\nA-1,\"Line one,\nline \"\"two\"\"\"\nA-2,\nA-3,plain\n";
        let out: Vec<_> = csv_records(std::io::Cursor::new(input.to_string())).unwrap().collect();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].as_ref().unwrap().text, "Line one,\nline \"two\"");
        assert!(out[1].is_err());
        assert_eq!(out[2].as_ref().unwrap().id, "A-3");
    }

    #[test]
    fn csv_without_text_column_is_rejected() {
        assert!(csv_records(std::io::Cursor::new("a,b\n1,2\n".to_string())).is_err());
    }

    #[test]
    fn folder_uses_file_stems_and_skips_other_files() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("INC-1.txt"), "report one").unwrap();
        fs::write(d.path().join("INC-2.md"), "# report two").unwrap();
        fs::write(d.path().join("notes.json"), "{}").unwrap();
        fs::write(d.path().join("empty.txt"), "  ").unwrap();
        let out = folder(d.path()).unwrap();
        let ids: Vec<_> = out.iter().filter_map(|r| r.as_ref().ok()).map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["INC-1", "INC-2"]);
        assert_eq!(out.iter().filter(|r| r.is_err()).count(), 1);
    }
}
