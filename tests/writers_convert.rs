//! `convert`: saved response bodies to typed files, and bodies that are not
//! a success reported as the client would, with no file left behind.

use std::{
    fs,
    path::{Path, PathBuf},
};

use arrow_array::TimestampMicrosecondArray;
use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use wolkvox_sync::{
    api::{envelope::Outcome, messages},
    catalog::{Endpoint, catalog},
    writers::{
        Format, Formats,
        convert::{ConvertError, convert, convert_until},
        csv::CsvOptions,
    },
};

/// The vendor's published example bodies, beside the crate as in CI.
const VENDOR_EXAMPLES: &str = "../shared/fixtures/vendor-examples.jsonl";

struct Example {
    module: String,
    api: String,
    body: String,
}

fn vendor_examples() -> Vec<Example> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(VENDOR_EXAMPLES);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let field = |k: &str| v[k].as_str().unwrap().to_string();
            Example { module: field("module"), api: field("api"), body: field("example_body") }
        })
        .collect()
}

fn vendor_body(module: &str, api: &str) -> String {
    let all = vendor_examples();
    let found = all.into_iter().find(|e| e.module == module && e.api == api);
    found.unwrap_or_else(|| panic!("no vendor example for {module}/{api}")).body
}

fn endpoint(id: &str) -> &'static Endpoint {
    catalog().by_id(id).unwrap()
}

/// Saves `body` as `dir/name` and returns its path.
fn save(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, body).unwrap();
    path
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn read_parquet(path: &Path) -> RecordBatch {
    let file = fs::File::open(path).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = builder.schema().clone();
    let batches: Vec<RecordBatch> =
        builder.with_batch_size(1 << 20).build().unwrap().map(Result::unwrap).collect();
    batches.into_iter().next().unwrap_or_else(|| RecordBatch::new_empty(schema))
}

/// Converts `input` alone, which must fail, and returns why.
#[track_caller]
fn failure(ep: &Endpoint, input: &Path, out: &Path) -> ConvertError {
    let inputs = [input.to_path_buf()];
    let mut report = convert(ep, &inputs, out, Formats::BOTH, CsvOptions::default()).unwrap();
    assert!(report.converted.is_empty(), "{:?}", report.converted);
    assert_eq!(report.failed.len(), 1);
    report.failed.remove(0)
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch.column_by_name(name).unwrap().as_any().downcast_ref::<T>().unwrap()
}

#[test]
fn vendor_example_converts_to_typed_files() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/agent_15");
    let path = save(input.path(), "agent_15.json", &vendor_body("reports_manager", "agent_15"));
    let report =
        convert(ep, std::slice::from_ref(&path), out.path(), Formats::BOTH, CsvOptions::default())
            .unwrap();

    assert_eq!(names(out.path()), ["agent_15.csv", "agent_15.parquet"]);
    assert_eq!((report.rows(), report.rejects()), (7, 0));
    let one = &report.converted[0];
    assert_eq!((one.input.as_path(), one.outcome), (path.as_path(), "rows"));
    let formats: Vec<Format> = one.report.files.iter().map(|f| f.format).collect();
    assert_eq!(formats, [Format::Parquet, Format::Csv]);

    let batch = read_parquet(&out.path().join("agent_15.parquet"));
    assert_eq!(batch.num_rows(), 7);
    let id = column::<StringArray>(&batch, "id_call");
    assert_eq!(id.value(0), "12462.0277.1782402643.44005");
    let when = column::<TimestampMicrosecondArray>(&batch, "date_preview");
    // 2026-06-25 10:50:54 on the operation's wall clock.
    assert_eq!(when.value(0), 1_782_384_654_000_000);
    let preview = column::<Int64Array>(&batch, "time_preview");
    assert_eq!(preview.value(0), 34);
    let percent = column::<Float64Array>(&batch, "preview_percent");
    assert_eq!(percent.value(0), 28.81);

    let csv = fs::read_to_string(out.path().join("agent_15.csv")).unwrap();
    assert_eq!(csv.lines().count(), 8);
    let first = csv.lines().nth(1).unwrap();
    assert!(first.starts_with("12462.0277.1782402643.44005,12462,COM-MARTA DIAZ,outbound_ma,"));
    assert!(first.ends_with(",28.81 %,"), "{first}");
}

#[test]
fn maintenance_body_is_an_error_and_leaves_no_file() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let path = save(input.path(), "cdr_1.json", messages::MAINTENANCE_BODY);
    let ep = endpoint("reports_manager/cdr_1");
    let err = failure(ep, &path, out.path());
    match &err {
        ConvertError::NotSuccess { input, outcome } => {
            assert_eq!(input, &path);
            assert_eq!(outcome, &Outcome::Maintenance);
        }
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert_eq!(msg, format!("{}: not a successful answer: maintenance", path.display()));
    assert!(names(out.path()).is_empty());
}

#[test]
fn other_error_bodies_are_classified_as_the_client_does() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/cdr_1");
    let cases = [
        (
            r#"{"code": "403", "error": "FORBIDDEN", "msg": "TOKEN LIMIT EXCEEDED"}"#,
            Outcome::BudgetSpent,
        ),
        (
            r#"{"code": "404", "error": "Not Found", "msg": "THE API IS NOT ENABLED"}"#,
            Outcome::NotEnabled("status 404: THE API IS NOT ENABLED".into()),
        ),
        (
            r#"{"code": "200", "error": null, "msg": "0 records were found"}"#,
            Outcome::Transient("status 200 without data".into()),
        ),
    ];
    for (body, want) in cases {
        let path = save(input.path(), "body.json", body);
        match failure(ep, &path, out.path()) {
            ConvertError::NotSuccess { outcome, .. } => assert_eq!(outcome, want),
            other => panic!("{body}: {other:?}"),
        }
    }
    assert!(names(out.path()).is_empty());
}

#[test]
fn cut_body_is_transient_and_leaves_no_file() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let body = vendor_body("reports_manager", "agent_15");
    let path = save(input.path(), "agent_15.json", &body[..body.len() / 2]);
    let ep = endpoint("reports_manager/agent_15");
    let err = failure(ep, &path, out.path());
    let ConvertError::NotSuccess { outcome: Outcome::Transient(detail), .. } = &err else {
        panic!("{err:?}");
    };
    assert!(detail.starts_with("cut or invalid JSON: EOF while parsing"), "{detail}");
    assert!(
        err.to_string().contains(": not a successful answer: cut or invalid JSON: EOF while"),
        "{err}"
    );
    assert!(names(out.path()).is_empty());
}

#[test]
fn an_empty_file_is_named_and_a_byte_order_mark_is_skipped() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/agent_15");
    let empty = save(input.path(), "empty.json", "");
    assert_eq!(
        failure(ep, &empty, out.path()).to_string(),
        format!("{}: the file is empty", empty.display())
    );

    let plain = save(input.path(), "plain.json", &vendor_body("reports_manager", "agent_15"));
    let body = format!("\u{feff}{}", vendor_body("reports_manager", "agent_15"));
    let path = save(input.path(), "windows.json", &body);
    let report =
        convert(ep, &[plain, path], out.path(), Formats::CSV, CsvOptions::default()).unwrap();
    assert_eq!(report.converted.len(), 2, "{:?}", report.failed);
    let csv = |name: &str| fs::read(out.path().join(name)).unwrap();
    assert_eq!(csv("windows.csv"), csv("plain.csv"));
}

#[test]
fn an_interrupted_conversion_leaves_no_file_and_starts_no_other() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/agent_15");
    let a = save(input.path(), "a.json", &vendor_body("reports_manager", "agent_15"));
    let b = save(input.path(), "b.json", &vendor_body("reports_manager", "agent_15"));
    // Set before the first row: as a signal arriving mid-body would be.
    let stop = std::sync::atomic::AtomicBool::new(true);
    let report =
        convert_until(ep, &[a, b], out.path(), Formats::BOTH, CsvOptions::default(), &stop)
            .unwrap();
    assert!(report.converted.is_empty());
    assert!(report.failed.is_empty(), "no input is started once stopped");
    assert!(names(out.path()).is_empty());
}

#[test]
fn empty_window_body_gives_empty_files() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let body = r#"{"code": "404", "error": "Not Found", "msg": "Validate dates entered"}"#;
    let path = save(input.path(), "sunday.json", body);
    let ep = endpoint("reports_manager/cdr_3");
    let report = convert(ep, &[path], out.path(), Formats::BOTH, CsvOptions::default()).unwrap();
    assert_eq!((report.converted[0].outcome, report.rows()), ("empty", 0));
    assert_eq!(names(out.path()), ["sunday.csv", "sunday.parquet"]);
    let csv = fs::read_to_string(out.path().join("sunday.csv")).unwrap();
    assert_eq!(
        csv,
        "agent_id,agent_name,date,destiny,telephone,message,channel,customer_id,conn_id,_extra\r\n"
    );
    assert_eq!(read_parquet(&out.path().join("sunday.parquet")).num_columns(), 11);
}

#[test]
fn a_bad_input_is_reported_and_the_others_are_converted() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/agent_15");
    let good = save(input.path(), "a.json", &vendor_body("reports_manager", "agent_15"));
    let bad = save(input.path(), "b.json", messages::MAINTENANCE_BODY);
    let last = save(input.path(), "c.json", &vendor_body("reports_manager", "agent_15"));
    let report = convert(
        ep,
        &[good, bad.clone(), last],
        out.path(),
        Formats::PARQUET,
        CsvOptions::default(),
    )
    .unwrap();
    let done: Vec<_> = report.converted.iter().map(|c| c.input.file_name().unwrap()).collect();
    assert_eq!(done, ["a.json", "c.json"]);
    assert_eq!(report.failed.len(), 1);
    let err = report.failed[0].to_string();
    assert!(err.starts_with(&format!("{}: not a successful answer", bad.display())), "{err}");
    assert_eq!(names(out.path()), ["a.parquet", "c.parquet"]);
}

#[test]
fn a_body_of_another_endpoint_is_refused() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    // agent_8 shares agent_name, agent_id and date with cdr_1: 15 keys
    // cdr_1 does not have, and 17 of its fields missing.
    let path = save(input.path(), "agents.json", &vendor_body("reports_manager", "agent_8"));
    let err = failure(endpoint("reports_manager/cdr_1"), &path, out.path());
    let msg = err.to_string();
    let want = format!(
        "{}: its 1 row(s) are not reports_manager/cdr_1's: they have keys it does not (acw_time, \
         agent_dni, aht, aux_time, calls, hour, inbound, inbound_time, internal, login_time, \
         occupancy, outbound, outbound_time, ready_time, ring_time) and lack fields it has \
         (destiny, telephone, cost, ",
        path.display()
    );
    assert!(msg.starts_with(&want), "{msg}");
    assert!(msg.ends_with(", comment); is --endpoint right?"), "{msg}");
    // Endpoints that share most keys are told apart too; each of these
    // bodies, given as each other endpoint, is refused.
    let bodies = [
        ("reports_manager", "agent_8"),
        ("reports_manager", "agent_1"),
        ("real_time", "agents"),
        ("information", "skills"),
        ("reports_manager", "cdr_1"),
    ];
    for (module, api) in bodies {
        let path = save(input.path(), &format!("{api}.json"), &vendor_body(module, api));
        for (other_module, other_api) in bodies {
            if (module, api) == (other_module, other_api) {
                continue;
            }
            let ep = endpoint(&format!("{other_module}/{other_api}"));
            let err = failure(ep, &path, out.path());
            assert!(matches!(err, ConvertError::OtherEndpoint { .. }), "{api} as {ep}: {err}");
        }
    }
    assert!(names(out.path()).is_empty());

    // A field or two the catalog does not know yet is the right endpoint
    // with something new: converted, the new keys kept in _extra.
    let body = vendor_body("reports_manager", "agent_8").replacen(
        "\"agent_name\"",
        "\"team\": \"Cobranzas\", \"agent_name\"",
        1,
    );
    let path = save(input.path(), "agents_new.json", &body);
    let report = convert(
        endpoint("reports_manager/agent_8"),
        &[path],
        out.path(),
        Formats::CSV,
        CsvOptions::default(),
    )
    .unwrap();
    assert_eq!((report.converted.len(), report.rows()), (1, 1));
    let csv = fs::read_to_string(out.path().join("agents_new.csv")).unwrap();
    assert!(csv.contains(r#""{""team"":""Cobranzas""}""#), "{csv}");
}

#[test]
fn missing_input_and_clashing_stems_name_the_files() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/cdr_1");
    let missing = input.path().join("nope.json");
    let err = failure(ep, &missing, out.path());
    assert!(matches!(err, ConvertError::Read { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!("{}: ", missing.display())), "{err}");

    let a = save(input.path(), "day.json", messages::MAINTENANCE_BODY);
    let b = save(input.path(), "day.txt", messages::MAINTENANCE_BODY);
    let err = convert(ep, &[a.clone(), b.clone()], out.path(), Formats::CSV, CsvOptions::default())
        .unwrap_err();
    let want = format!("{} and {}: both would be written as day", a.display(), b.display());
    assert_eq!(err.to_string(), want);
    assert!(names(out.path()).is_empty());
}

/// Every published example goes through `convert`: valid bodies become
/// files; the invalid JSON the vendor publishes is reported as a broken
/// body, and nothing is left behind for it.
#[test]
fn every_vendor_example_converts_or_is_reported() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (mut files, mut rejects, mut transient, mut other) = (0, 0, 0, Vec::new());
    for (i, ex) in vendor_examples().iter().enumerate() {
        let Some(ep) = catalog().get(&ex.module, &ex.api) else {
            other.push(format!("{}/{} is not in the catalog", ex.module, ex.api));
            continue;
        };
        let path = save(input.path(), &format!("{i:03}_{}_{}.json", ex.module, ex.api), &ex.body);
        let mut report =
            convert(ep, &[path], out.path(), Formats::BOTH, CsvOptions::default()).unwrap();
        match report.failed.pop() {
            None => {
                files += report.converted[0].report.files.len();
                rejects += report.rejects();
            }
            Some(ConvertError::NotSuccess { outcome: Outcome::Transient(_), .. }) => transient += 1,
            Some(err) => other.push(err.to_string()),
        }
    }
    assert_eq!(other, Vec::<String>::new());
    // 121 bodies give a Parquet and a CSV file each, all values reading as
    // their catalog type; 6 bodies are published as invalid JSON
    // (agents_kpi, agent_8_1, skill_4_1, cdr_8, cdr_9, speech_5).
    assert_eq!((files, rejects, transient), (242, 0, 6));
    assert_eq!(names(out.path()).len(), files);
}
