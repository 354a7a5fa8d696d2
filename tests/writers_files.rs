//! The window writers: exact CSV bytes, typed Parquet round trips, the
//! file layout, and atomic publishing (commit, abort, replace).

use std::{fs, path::Path};

use arrow_array::{
    Array, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use jiff::civil::{DateTime, date};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use wolkvox_sync::{
    api::envelope,
    catalog::{Endpoint, catalog},
    writers::{
        Format, Formats, WindowFiles, WindowSpec,
        csv::{CsvOptions, CsvWriter},
        parquet::{REJECTS_COLUMN, meta},
    },
};

fn endpoint(id: &str) -> &'static Endpoint {
    catalog().by_id(id).unwrap()
}

fn day(d: i8) -> (DateTime, DateTime) {
    (date(2026, 1, d).at(0, 0, 0, 0), date(2026, 1, d).at(23, 59, 59, 0))
}

fn spec<'a>(out: &'a Path, ep: &'a Endpoint, window: (DateTime, DateTime)) -> WindowSpec<'a> {
    WindowSpec {
        out_dir: out,
        job: "calls",
        endpoint: ep,
        start: window.0,
        end: window.1,
        formats: Formats::BOTH,
        csv: CsvOptions::default(),
    }
}

/// Decodes `body` into a new window's files and commits them.
fn write_window(spec: &WindowSpec, body: &str) -> wolkvox_sync::writers::WindowReport {
    let mut files = WindowFiles::create(spec).unwrap();
    let env = envelope::decode(spec.endpoint, body.as_bytes(), &mut files).unwrap();
    assert!(env.is_success());
    files.commit().unwrap()
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

struct ParquetFile {
    schema: SchemaRef,
    batch: RecordBatch,
    meta: Vec<(String, String)>,
    row_groups: usize,
}

fn read_parquet(path: &Path) -> ParquetFile {
    let builder = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap()).unwrap();
    let file_meta = builder.metadata().file_metadata();
    let meta = file_meta
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter(|kv| kv.key.starts_with("wolkvox."))
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect();
    let row_groups = builder.metadata().num_row_groups();
    let schema = builder.schema().clone();
    // One batch holds every row of these small files.
    let reader = builder.with_batch_size(1 << 20).build().unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let batch = match batches.as_slice() {
        [] => RecordBatch::new_empty(schema.clone()),
        [one] => one.clone(),
        more => panic!("{} batches", more.len()),
    };
    ParquetFile { schema, batch, meta, row_groups }
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    let col = batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
    col.as_any().downcast_ref::<T>().unwrap_or_else(|| panic!("{name} has another type"))
}

fn texts(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let col = column::<StringArray>(batch, name);
    (0..col.len()).map(|i| col.is_valid(i).then(|| col.value(i).to_string())).collect()
}

const CDR_3_BODY: &str = r#"{"code": 200, "error": null, "msg": "2 records were found", "data": [
  {"agent_id": "12462", "agent_name": "José Peña", "date": "2026-01-02 08:15:00",
   "destiny": "57300", "telephone": "3001234567",
   "message": "Hola, \"señor\"\nsu cita es mañana", "channel": "whatsapp",
   "customer_id": "-", "conn_id": "12462.0277.1767359700.1"},
  {"agent_id": "12463", "agent_name": "Ñandú; Ltda", "date": "2026-01-02 09:00:00",
   "destiny": "57300", "telephone": "3007654321", "message": "Adiós",
   "channel": "sms", "customer_id": "", "new_field": "x"}
]}"#;

#[test]
fn csv_bytes_are_exact() {
    let ep = endpoint("reports_manager/cdr_3");
    let mut w = CsvWriter::new(Vec::new(), ep, CsvOptions::default()).unwrap();
    envelope::decode(ep, CDR_3_BODY.as_bytes(), &mut w).unwrap();
    assert_eq!(w.rows(), 2);
    let got = String::from_utf8(w.finish().unwrap()).unwrap();
    let want = "agent_id,agent_name,date,destiny,telephone,message,channel,customer_id,conn_id,_extra\r\n\
        12462,José Peña,2026-01-02 08:15:00,57300,3001234567,\"Hola, \"\"señor\"\"\nsu cita es mañana\",whatsapp,-,12462.0277.1767359700.1,\r\n\
        12463,Ñandú; Ltda,2026-01-02 09:00:00,57300,3007654321,Adiós,sms,,,\"{\"\"new_field\"\":\"\"x\"\"}\"\r\n";
    assert_eq!(got, want);
}

#[test]
fn csv_for_spanish_excel_has_bom_and_semicolons() {
    let ep = endpoint("reports_manager/cdr_3");
    let mut w = CsvWriter::new(Vec::new(), ep, CsvOptions::EXCEL_ES).unwrap();
    envelope::decode(ep, CDR_3_BODY.as_bytes(), &mut w).unwrap();
    let got = w.finish().unwrap();
    assert_eq!(&got[..3], b"\xEF\xBB\xBF");
    let want = "agent_id;agent_name;date;destiny;telephone;message;channel;customer_id;conn_id;_extra\r\n\
        12462;José Peña;2026-01-02 08:15:00;57300;3001234567;\"Hola, \"\"señor\"\"\nsu cita es mañana\";whatsapp;-;12462.0277.1767359700.1;\r\n\
        12463;\"Ñandú; Ltda\";2026-01-02 09:00:00;57300;3007654321;Adiós;sms;;;\"{\"\"new_field\"\":\"\"x\"\"}\"\r\n";
    assert_eq!(String::from_utf8(got[3..].to_vec()).unwrap(), want);
}

#[test]
fn a_row_of_the_wrong_width_is_refused() {
    use wolkvox_sync::api::RowSink;
    let ep = endpoint("reports_manager/cdr_3");
    let mut w = CsvWriter::new(Vec::new(), ep, CsvOptions::default()).unwrap();
    let err = w.row(&[Some("a")]).unwrap_err();
    assert_eq!(err.to_string(), "row has 1 values, the endpoint has 10 columns");
}

#[test]
fn files_are_laid_out_by_job_and_window_date() {
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/cdr_3");
    let spec = spec(out.path(), ep, day(2));
    let report = write_window(&spec, CDR_3_BODY);
    let base = "calls/window_date=2026-01-02/calls_20260102000000_20260102235959";
    assert_eq!(tree(out.path()), [format!("{base}.csv"), format!("{base}.parquet")]);
    assert_eq!(report.rows, 2);
    assert_eq!(report.rejects, 0);
    let formats: Vec<Format> = report.files.iter().map(|f| f.format).collect();
    assert_eq!(formats, [Format::Parquet, Format::Csv]);
    assert_eq!(report.files[0].path, spec.path(Format::Parquet));
    for file in &report.files {
        let bytes = fs::read(&file.path).unwrap();
        assert_eq!(file.bytes, bytes.len() as u64);
        assert_eq!(file.sha256, sha256_hex(&bytes));
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn empty_window_has_header_and_full_schema() {
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/cdr_1");
    let spec = spec(out.path(), ep, day(3));
    let report = WindowFiles::create(&spec).unwrap().commit().unwrap();
    assert_eq!(report.rows, 0);

    let csv = fs::read_to_string(spec.path(Format::Csv)).unwrap();
    let header = "agent_name,date,destiny,telephone,cost,time_seg,time_min,cod_act,\
        description_cod_act,cod_act_2,description_cod_act_2,type_interaction,customer_id,\
        hang_up,campaign_id,conn_id,skill_id,skill_name,agent_id,comment,_extra\r\n";
    assert_eq!(csv, header);

    let file = read_parquet(&spec.path(Format::Parquet));
    assert_eq!((file.batch.num_rows(), file.row_groups), (0, 0));
    assert_eq!(file.schema.fields().len(), 22);
    assert_eq!(file.schema.fields(), wolkvox_sync::writers::parquet::schema(ep).fields());
    assert!(file.schema.fields().iter().all(|f| f.is_nullable()));
    assert!(file.schema.fields().iter().all(|f| f.data_type() != &DataType::Null));
}

const CDR_1_BODY: &str = r#"{"code": "200", "error": null, "msg": "3 records were found", "data": [
  {"agent_name": "Agente Ñoño", "date": "2026-01-02 03:04:05", "destiny": "inbound",
   "telephone": "3001234567", "cost": "1,234.50", "time_seg": "00:02:05", "time_min": "2.08",
   "cod_act": "Acuerdo_de_Pago", "type_interaction": "inbound", "conn_id": "1.2.3",
   "comment": "Llamó por la factura"},
  {"agent_name": "Routing_point_61182", "date": "2026-01-02 23:59:59", "cost": "abc",
   "time_seg": "45", "time_min": "-", "comment": ""},
  {"agent_name": "chat_bot", "date": "2026-02-30 10:00:00", "time_seg": "1h",
   "time_min": "0.75"}
]}"#;

#[test]
fn parquet_round_trips_types_values_and_rejects() {
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/cdr_1");
    let spec = spec(out.path(), ep, day(2));
    let report = write_window(&spec, CDR_1_BODY);
    assert_eq!((report.rows, report.rejects), (3, 3));

    let file = read_parquet(&spec.path(Format::Parquet));
    let types: Vec<(&str, &DataType)> =
        file.schema.fields().iter().map(|f| (f.name().as_str(), f.data_type())).collect();
    let ts = DataType::Timestamp(TimeUnit::Microsecond, None);
    assert_eq!(types[0], ("agent_name", &DataType::Utf8));
    assert_eq!(types[1], ("date", &ts));
    assert_eq!(types[4], ("cost", &DataType::Float64));
    assert_eq!(types[5], ("time_seg", &DataType::Int64));
    assert_eq!(types[6], ("time_min", &DataType::Float64));
    assert_eq!(types[20], ("_extra", &DataType::Utf8));
    assert_eq!(types[21], (REJECTS_COLUMN, &DataType::Utf8));

    let b = &file.batch;
    assert_eq!(
        texts(b, "agent_name"),
        [Some("Agente Ñoño".into()), Some("Routing_point_61182".into()), Some("chat_bot".into())]
    );
    let date = column::<TimestampMicrosecondArray>(b, "date");
    assert_eq!(date.value(0), 1_767_323_045_000_000);
    assert_eq!(date.value(1), 1_767_398_399_000_000);
    assert!(date.is_null(2));
    let cost = column::<Float64Array>(b, "cost");
    assert_eq!(cost.value(0), 1_234.5);
    assert!(cost.is_null(1) && cost.is_null(2));
    let secs = column::<Int64Array>(b, "time_seg");
    assert_eq!((secs.value(0), secs.value(1)), (125, 45));
    assert!(secs.is_null(2));
    let mins = column::<Float64Array>(b, "time_min");
    assert_eq!(mins.value(0), 2.08);
    assert!(mins.is_null(1));
    assert_eq!(texts(b, "comment"), [Some("Llamó por la factura".into()), None, None]);
    assert_eq!(
        texts(b, REJECTS_COLUMN),
        [
            None,
            Some(r#"{"cost":"abc"}"#.into()),
            Some(r#"{"date":"2026-02-30 10:00:00","time_seg":"1h"}"#.into())
        ]
    );
}

const AGENT_8_BODY: &str = r#"{"code": 200, "error": null, "msg": "2 records were found", "data": [
  {"agent_name": "María José Baño", "agent_id": "12462", "date": "2026-01-02", "hour": "13:00",
   "calls": "12", "login_time": "172:00:01", "aht": "00:14:47", "occupancy": "34.64 %"},
  {"agent_name": "ING-PAULA GOMEZ", "agent_id": "12775", "date": "20260102", "hour": "07",
   "calls": "1,204", "login_time": "00:00:00", "occupancy": "15,233.33 %"}
]}"#;

#[test]
fn parquet_keeps_dates_hours_durations_and_percents() {
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/agent_8");
    let spec = spec(out.path(), ep, day(2));
    let report = write_window(&spec, AGENT_8_BODY);
    assert_eq!((report.rows, report.rejects), (2, 0));

    let file = read_parquet(&spec.path(Format::Parquet));
    let field = |name: &str| file.schema.field_with_name(name).unwrap().data_type().clone();
    assert_eq!(field("date"), DataType::Date32);
    // Text, not a Parquet TIME, which Spark before 4.1 cannot read.
    assert_eq!(field("hour"), DataType::Utf8);
    assert_eq!(field("login_time"), DataType::Int64);
    assert_eq!(field("occupancy"), DataType::Float64);

    let b = &file.batch;
    let d = column::<Date32Array>(b, "date");
    assert_eq!((d.value(0), d.value(1)), (20_455, 20_455));
    assert_eq!(texts(b, "hour"), [Some("13:00".into()), Some("07:00".into())]);
    let calls = column::<Int64Array>(b, "calls");
    assert_eq!((calls.value(0), calls.value(1)), (12, 1_204));
    let login = column::<Int64Array>(b, "login_time");
    assert_eq!((login.value(0), login.value(1)), (619_201, 0));
    let aht = column::<Int64Array>(b, "aht");
    assert_eq!(aht.value(0), 887);
    assert!(aht.is_null(1));
    let occ = column::<Float64Array>(b, "occupancy");
    assert_eq!((occ.value(0), occ.value(1)), (34.64, 15_233.33));
    assert_eq!(texts(b, "agent_name")[0].as_deref(), Some("María José Baño"));
    assert_eq!(texts(b, REJECTS_COLUMN), [None, None]);
}

#[test]
fn parquet_metadata_names_endpoint_and_window() {
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/agent_8");
    let spec = spec(out.path(), ep, day(2));
    write_window(&spec, AGENT_8_BODY);
    let file = read_parquet(&spec.path(Format::Parquet));
    let get = |key: &str| file.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    assert_eq!(get(meta::ENDPOINT).as_deref(), Some("reports_manager/agent_8"));
    assert_eq!(get(meta::WINDOW_START).as_deref(), Some("2026-01-02T00:00:00"));
    assert_eq!(get(meta::WINDOW_END).as_deref(), Some("2026-01-02T23:59:59"));
    assert!(get(meta::TIMESTAMPS).unwrap().contains("local wall clock"));
}

#[test]
fn two_windows_of_one_endpoint_share_the_schema() {
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/cdr_1");
    let full = spec(out.path(), ep, day(2));
    write_window(&full, CDR_1_BODY);
    let empty = spec(out.path(), ep, day(3));
    WindowFiles::create(&empty).unwrap().commit().unwrap();
    let a = read_parquet(&full.path(Format::Parquet));
    let b = read_parquet(&empty.path(Format::Parquet));
    assert_eq!(a.schema.fields(), b.schema.fields());
    assert_eq!((a.batch.num_rows(), b.batch.num_rows()), (3, 0));
}

#[test]
fn large_windows_are_split_into_bounded_row_groups() {
    use wolkvox_sync::api::RowSink;
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/cdr_3");
    let spec = WindowSpec { formats: Formats::PARQUET, ..spec(out.path(), ep, day(2)) };
    let mut files = WindowFiles::create(&spec).unwrap();
    let rows = 70_000;
    for i in 0..rows {
        let id = i.to_string();
        let mut values = vec![Some(id.as_str()); 10];
        values[2] = Some("2026-01-02 10:00:00");
        values[9] = None;
        files.row(&values).unwrap();
    }
    let report = files.commit().unwrap();
    assert_eq!(report.rows, rows);
    assert_eq!(tree(out.path()).len(), 1);
    let builder = ParquetRecordBatchReaderBuilder::try_new(
        fs::File::open(spec.path(Format::Parquet)).unwrap(),
    )
    .unwrap();
    let groups: Vec<i64> = builder.metadata().row_groups().iter().map(|g| g.num_rows()).collect();
    assert_eq!(groups, [65_536, 4_464]);
}

#[test]
fn abort_and_drop_leave_nothing_behind() {
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/cdr_3");
    let spec = spec(out.path(), ep, day(2));
    let mut files = WindowFiles::create(&spec).unwrap();
    envelope::decode(ep, CDR_3_BODY.as_bytes(), &mut files).unwrap();
    files.abort();
    assert!(tree(out.path()).is_empty());

    let mut files = WindowFiles::create(&spec).unwrap();
    envelope::decode(ep, CDR_3_BODY.as_bytes(), &mut files).unwrap();
    drop(files);
    assert!(tree(out.path()).is_empty());
}

#[test]
fn recommit_replaces_the_window_files() {
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/cdr_3");
    let spec = spec(out.path(), ep, day(2));
    let first = write_window(&spec, CDR_3_BODY);
    let second = WindowFiles::create(&spec).unwrap().commit().unwrap();
    assert_eq!(tree(out.path()).len(), 2, "no temporary or extra files");
    assert_eq!(second.rows, 0);
    assert_ne!(first.files[1].sha256, second.files[1].sha256);
    let csv = fs::read_to_string(spec.path(Format::Csv)).unwrap();
    assert_eq!(csv.lines().count(), 1);
    assert_eq!(read_parquet(&spec.path(Format::Parquet)).batch.num_rows(), 0);
}

#[test]
fn published_files_are_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let out = tempfile::tempdir().unwrap();
    let spec = spec(out.path(), endpoint("reports_manager/cdr_3"), day(2));
    let report = write_window(&spec, CDR_3_BODY);
    for file in report.files {
        let mode = fs::metadata(&file.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{}", file.path.display());
    }
}

#[test]
fn bad_specs_are_refused_before_any_file() {
    let out = tempfile::tempdir().unwrap();
    let ep = endpoint("reports_manager/cdr_3");
    let errors: Vec<String> = [
        WindowSpec { job: "../up", ..spec(out.path(), ep, day(2)) },
        WindowSpec { job: ".hidden", ..spec(out.path(), ep, day(2)) },
        WindowSpec {
            formats: Formats { csv: false, parquet: false },
            ..spec(out.path(), ep, day(2))
        },
        WindowSpec { end: day(1).1, ..spec(out.path(), ep, day(2)) },
    ]
    .iter()
    .map(|s| WindowFiles::create(s).unwrap_err().to_string())
    .collect();
    assert_eq!(
        errors,
        [
            "job name \"../up\" cannot name an output folder",
            "job name \".hidden\" cannot name an output folder",
            "no output format chosen",
            "window 2026-01-02T00:00:00..2026-01-01T23:59:59 ends before it starts",
        ]
    );
    assert!(tree(out.path()).is_empty());
}
