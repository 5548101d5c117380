//! In-process tests of the HTTP API (`create_app` under `actix_web::test`) with the real model and
//! head: every route, the bad-input table (every hostile input answers problem+json and the service
//! lives on), load shedding, auth, and the OpenAPI schema against real output.
//!
//! The model is loaded once per test binary (a `OnceLock`), so the whole file costs one model load
//! plus a second, tiny-queue worker for the shedding test.

use std::sync::{Arc, OnceLock};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::test;
use futures_util::future::join_all;
use rootline::http::{create_app, AppState};
use rootline::settings::{ServerSettings, Settings};
use serde_json::{json, Value};

/// Model settings: the defaults, with `ROOTLINE_HEAD` honoured like the binary does.
fn settings() -> Settings {
    let mut s = Settings::default();
    if let Ok(h) = std::env::var("ROOTLINE_HEAD") {
        s.head = h.into();
    }
    s
}

/// The shared service state; its queue is deep enough for the 200-client test.
async fn state() -> AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    let st = STATE
        .get_or_init(|| {
            let server = ServerSettings { queue_capacity: 256, ..ServerSettings::default() };
            AppState::start(&settings(), &server).expect("worker starts")
        })
        .clone();
    st.worker.ready().await.expect("model loads (fetched on first use)");
    st
}

const REPORT: &str = "Checkout outage, 14 March 2024 (all times UTC).\n\n\
At 09:58 an engineer pushed a configuration change that lowered the database connection pool limit \
from 200 to 20. At 10:04 checkout began returning HTTP 500 to about half of all requests. The on-call \
engineer was paged at 10:07. Root cause: the configuration change was pushed without review. We \
reverted it at 10:31 and errors stopped by 10:35.";

struct Answer {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn answer<B: MessageBody>(res: ServiceResponse<B>) -> Answer {
    let status = res.status().as_u16();
    let h = |name| res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let content_type = h(header::CONTENT_TYPE).unwrap_or_default();
    let retry_after = h(header::RETRY_AFTER);
    let body = test::read_body(res).await.to_vec();
    Answer { status, content_type, retry_after, body }
}

fn post(path: &str, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> test::TestRequest {
    let mut r = test::TestRequest::default().method(Method::POST).uri(path);
    if let Some(ct) = content_type {
        r = r.insert_header((header::CONTENT_TYPE, ct));
    }
    r.set_payload(body.into())
}

/// Sends one request to an app built from `st`.
async fn call(st: AppState, req: test::TestRequest) -> Answer {
    let app = test::init_service(create_app(st)).await;
    answer(test::call_service(&app, req.to_request()).await).await
}

fn chars(s: &str, start: usize, end: usize) -> String {
    s.chars().skip(start).take(end - start).collect()
}

#[actix_web::test]
async fn analyze_accepts_json_and_plain_text_alike() {
    let st = state().await;
    let a = call(
        st.clone(),
        post("/v1/analyze", Some("application/json"), json!({"id": "INC-1", "text": REPORT}).to_string()),
    )
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert!(a.content_type.starts_with("application/json"));
    let a = a.json();
    assert_eq!(a["id"], "INC-1");
    let b = call(st, post("/v1/analyze", Some("text/plain; charset=utf-8"), REPORT)).await.json();
    assert!(b.get("id").is_none());
    assert_eq!(a["root_cause"], b["root_cause"]);
    let scores: f64 =
        a["root_cause"]["scores"].as_object().unwrap().values().map(|v| v.as_f64().unwrap()).sum();
    assert!((scores - 1.0).abs() < 1e-3);
    for ev in a["root_cause"]["evidence"].as_array().unwrap() {
        let (s, e) = (ev["start"].as_u64().unwrap() as usize, ev["end"].as_u64().unwrap() as usize);
        assert_eq!(chars(REPORT, s, e), ev["text"].as_str().unwrap());
    }
    assert!(!a["timeline"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn json_batch_answers_in_input_order() {
    let st = state().await;
    let reports: Vec<Value> =
        (0..11).map(|i| json!({"id": format!("r{i}"), "text": format!("Report {i}. {REPORT}")})).collect();
    let a = call(
        st,
        post("/v1/analyze/batch", Some("application/json"), json!({"reports": reports}).to_string()),
    )
    .await;
    assert_eq!(a.status, 200);
    let ids: Vec<String> = a.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = (0..11).map(|i| format!("r{i}")).collect();
    assert_eq!(ids, want);
}

#[actix_web::test]
async fn ndjson_batch_streams_and_answers_bad_lines_in_place() {
    let st = state().await;
    let mut body = String::new();
    for i in 0..10 {
        match i {
            3 => body.push_str("{\"id\": \"broken\", \"text\": \n"),
            5 => body.push_str("{\"id\": \"blank\", \"text\": \"   \"}\n"),
            7 => body.push('\n'),
            _ => body.push_str(&format!(
                "{}\n",
                json!({"id": format!("n{i}"), "text": format!("Line {i}. {REPORT}")})
            )),
        }
    }
    let mut bytes = body.into_bytes();
    bytes.extend_from_slice(b"\xff\xfe not utf-8\n");
    let a = call(st, post("/v1/analyze/batch", Some("application/x-ndjson"), bytes)).await;
    assert_eq!(a.status, 200);
    assert!(a.content_type.starts_with("application/x-ndjson"));
    let lines: Vec<Value> =
        String::from_utf8(a.body).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // 11 input lines, one blank: 10 answers, in input order.
    assert_eq!(lines.len(), 10);
    let good: Vec<&str> = lines.iter().filter_map(|l| l.get("root_cause").and(l["id"].as_str())).collect();
    assert_eq!(good, ["n0", "n1", "n2", "n4", "n6", "n8", "n9"]);
    let bad: Vec<(u64, &str)> = lines
        .iter()
        .filter(|l| l.get("code").is_some())
        .map(|l| (l["line"].as_u64().unwrap(), l["code"].as_str().unwrap()))
        .collect();
    assert_eq!(bad, [(4, "invalid_input"), (6, "empty_text"), (11, "invalid_input")]);
    assert_eq!(lines[5]["id"], "blank");
}

#[actix_web::test]
async fn embed_has_the_text_embeddings_inference_shape() {
    let st = state().await;
    let one =
        call(st.clone(), post("/v1/embed", Some("application/json"), r#"{"inputs": "disk full"}"#)).await;
    assert_eq!(one.status, 200);
    let one: Vec<Vec<f32>> = serde_json::from_slice(&one.body).unwrap();
    assert_eq!((one.len(), one[0].len()), (1, 384));
    let many = call(
        st,
        post(
            "/v1/embed",
            Some("application/json"),
            r#"{"inputs": ["disk full", "a config push", "x"], "normalize": true}"#,
        ),
    )
    .await;
    let many: Vec<Vec<f32>> = serde_json::from_slice(&many.body).unwrap();
    assert_eq!(many.len(), 3);
    let norm: f32 = many[1].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3);
    let same = many[0].iter().zip(&one[0]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(same < 1e-4);
}

#[actix_web::test]
async fn health_metrics_openapi_and_docs() {
    let st = state().await;
    let get = |p: &str| test::TestRequest::get().uri(p);
    let h = call(st.clone(), get("/health")).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    call(st.clone(), post("/v1/analyze", Some("text/plain"), REPORT)).await;
    let m = call(st.clone(), get("/metrics")).await;
    assert_eq!(m.status, 200);
    assert!(m.content_type.starts_with("text/plain"));
    let text = String::from_utf8(m.body).unwrap();
    for name in [
        "rootline_http_requests_total{method=\"POST\",route=\"/v1/analyze\",status=\"200\"}",
        "rootline_http_request_duration_seconds_bucket",
        "rootline_batch_size_bucket",
        "rootline_model_seconds_bucket",
        "rootline_queue_depth",
        "rootline_labels_total",
        "process_resident_memory_bytes",
    ] {
        assert!(text.contains(name), "metrics lack {name}");
    }
    let o = call(st.clone(), get("/openapi.json")).await;
    assert_eq!(o.status, 200);
    let doc = o.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in
        ["/v1/analyze", "/v1/analyze/batch", "/v1/embed", "/health", "/metrics", "/openapi.json", "/docs"]
    {
        assert!(doc["paths"].get(p).is_some(), "OpenAPI lacks {p}");
    }
    let d = call(st, get("/docs")).await;
    assert_eq!(d.status, 200);
    assert!(d.content_type.starts_with("text/html"));
    let html = String::from_utf8(d.body).unwrap();
    assert!(html.contains("/openapi.json"));
    // Works offline: no external script, style or font.
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("@import"));
}

/// Every field of `value` must be described by `schema` (resolving `$ref`s), recursively.
fn check_described(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let resolve = |s: &Value| -> Value {
        match s.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
            None => s.clone(),
        }
    };
    let schema = resolve(schema);
    match value {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
                for (k, v) in map {
                    let sub = props.get(k).unwrap_or_else(|| panic!("{at}.{k} is not in the OpenAPI schema"));
                    check_described(doc, sub, v, &format!("{at}.{k}"));
                }
            } else {
                assert!(schema.get("additionalProperties").is_some(), "{at}: object without a schema");
            }
        }
        Value::Array(items) => {
            let item_schema = schema.get("items").unwrap_or_else(|| panic!("{at}: array without items"));
            for (i, v) in items.iter().enumerate() {
                check_described(doc, item_schema, v, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

#[actix_web::test]
async fn openapi_analysis_schema_describes_real_output() {
    let st = state().await;
    let a = call(
        st.clone(),
        post("/v1/analyze", Some("application/json"), json!({"id": "x", "text": REPORT}).to_string()),
    )
    .await
    .json();
    let doc = call(st, test::TestRequest::get().uri("/openapi.json")).await.json();
    check_described(&doc, &json!({"$ref": "#/components/schemas/Analysis"}), &a, "Analysis");
    let required: Vec<&str> = doc["components"]["schemas"]["Analysis"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for k in required {
        assert!(a.get(k).is_some(), "schema requires {k} but the Analysis lacks it");
    }
}

#[actix_web::test]
async fn bad_inputs_are_problems_and_never_end_the_service() {
    let st = state().await;
    let big = vec![b'a'; 2 << 20];
    let deep = "[".repeat(100_000);
    let mut big_json = b"{\"inputs\": \"".to_vec();
    big_json.extend(vec![b'a'; 2 << 20]);
    big_json.extend_from_slice(b"\"}");
    let many: Vec<Value> = (0..257).map(|i| json!({"text": format!("r{i}")})).collect();
    let many_lines: String = (0..257).map(|i| format!("{}\n", json!({"text": format!("r{i}")}))).collect();
    type Row = (&'static str, Method, &'static str, Option<&'static str>, Vec<u8>, u16, &'static str);
    let rows: Vec<Row> = vec![
        (
            "malformed JSON",
            Method::POST,
            "/v1/analyze",
            Some("application/json"),
            b"{\"text\": ".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "missing text",
            Method::POST,
            "/v1/analyze",
            Some("application/json"),
            b"{\"id\": \"x\"}".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "number where text belongs",
            Method::POST,
            "/v1/analyze",
            Some("application/json"),
            b"{\"text\": 42}".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "array body",
            Method::POST,
            "/v1/analyze",
            Some("application/json"),
            b"[1, 2]".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "object id",
            Method::POST,
            "/v1/analyze",
            Some("application/json"),
            b"{\"text\": \"x\", \"id\": {}}".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "invalid UTF-8 text",
            Method::POST,
            "/v1/analyze",
            Some("text/plain"),
            b"\xff\xfe\xfd".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "invalid UTF-8 in JSON",
            Method::POST,
            "/v1/analyze",
            Some("application/json"),
            b"{\"text\": \"\xff\"}".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "100,000 nested brackets",
            Method::POST,
            "/v1/analyze",
            Some("application/json"),
            deep.clone().into_bytes(),
            400,
            "invalid_input",
        ),
        (
            "nested brackets, batch",
            Method::POST,
            "/v1/analyze/batch",
            Some("application/json"),
            deep.clone().into_bytes(),
            400,
            "invalid_input",
        ),
        (
            "nested brackets, embed",
            Method::POST,
            "/v1/embed",
            Some("application/json"),
            deep.into_bytes(),
            400,
            "invalid_input",
        ),
        ("2 MiB text", Method::POST, "/v1/analyze", Some("text/plain"), big.clone(), 413, "too_large"),
        (
            "2 MiB batch",
            Method::POST,
            "/v1/analyze/batch",
            Some("application/x-ndjson"),
            big,
            413,
            "too_large",
        ),
        ("2 MiB embed", Method::POST, "/v1/embed", Some("application/json"), big_json, 413, "too_large"),
        (
            "empty text",
            Method::POST,
            "/v1/analyze",
            Some("application/json"),
            b"{\"text\": \"\"}".to_vec(),
            422,
            "empty_text",
        ),
        (
            "whitespace text",
            Method::POST,
            "/v1/analyze",
            Some("text/plain"),
            b" \n\t \r\n".to_vec(),
            422,
            "empty_text",
        ),
        (
            "form body",
            Method::POST,
            "/v1/analyze",
            Some("application/x-www-form-urlencoded"),
            b"text=x".to_vec(),
            415,
            "unsupported_media_type",
        ),
        ("no content type", Method::POST, "/v1/analyze", None, b"x".to_vec(), 415, "unsupported_media_type"),
        (
            "latin-1 charset",
            Method::POST,
            "/v1/analyze",
            Some("text/plain; charset=latin1"),
            b"x".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "plain text batch",
            Method::POST,
            "/v1/analyze/batch",
            Some("text/plain"),
            b"x".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "plain text embed",
            Method::POST,
            "/v1/embed",
            Some("text/plain"),
            b"x".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "batch without reports",
            Method::POST,
            "/v1/analyze/batch",
            Some("application/json"),
            b"{}".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "batch reports not array",
            Method::POST,
            "/v1/analyze/batch",
            Some("application/json"),
            b"{\"reports\": 3}".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "batch report without text",
            Method::POST,
            "/v1/analyze/batch",
            Some("application/json"),
            b"{\"reports\": [{\"text\": \"ok\"}, {\"id\": 2}]}".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "batch with an empty report",
            Method::POST,
            "/v1/analyze/batch",
            Some("application/json"),
            b"{\"reports\": [{\"text\": \"ok\"}, {\"text\": \" \"}]}".to_vec(),
            422,
            "empty_text",
        ),
        (
            "batch over max",
            Method::POST,
            "/v1/analyze/batch",
            Some("application/json"),
            json!({"reports": many}).to_string().into_bytes(),
            413,
            "too_large",
        ),
        (
            "ndjson over max",
            Method::POST,
            "/v1/analyze/batch",
            Some("application/x-ndjson"),
            many_lines.into_bytes(),
            413,
            "too_large",
        ),
        (
            "embed malformed",
            Method::POST,
            "/v1/embed",
            Some("application/json"),
            b"{\"inputs\": [".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "embed number",
            Method::POST,
            "/v1/embed",
            Some("application/json"),
            b"{\"inputs\": [1]}".to_vec(),
            400,
            "invalid_input",
        ),
        (
            "embed no inputs",
            Method::POST,
            "/v1/embed",
            Some("application/json"),
            b"{\"inputs\": []}".to_vec(),
            422,
            "empty_text",
        ),
        (
            "embed empty input",
            Method::POST,
            "/v1/embed",
            Some("application/json"),
            b"{\"inputs\": [\"ok\", \"\"]}".to_vec(),
            422,
            "empty_text",
        ),
        (
            "embed unnormalised",
            Method::POST,
            "/v1/embed",
            Some("application/json"),
            b"{\"inputs\": \"x\", \"normalize\": false}".to_vec(),
            400,
            "invalid_input",
        ),
        ("unknown path", Method::GET, "/v2/nothing", None, Vec::new(), 404, "not_found"),
        ("GET on a POST route", Method::GET, "/v1/analyze", None, Vec::new(), 405, "method_not_allowed"),
        (
            "POST on a GET route",
            Method::POST,
            "/health",
            Some("text/plain"),
            b"x".to_vec(),
            405,
            "method_not_allowed",
        ),
    ];
    let app = test::init_service(create_app(st)).await;
    for (name, method, path, ct, body, status, code) in rows {
        let mut req = test::TestRequest::default().method(method).uri(path).set_payload(body);
        if let Some(ct) = ct {
            req = req.insert_header((header::CONTENT_TYPE, ct));
        }
        let a = answer(app.call(req.to_request()).await.unwrap_or_else(|e| panic!("{name}: {e}"))).await;
        assert_eq!(a.status, status, "{name}: {}", String::from_utf8_lossy(&a.body));
        assert!(
            a.content_type.starts_with("application/problem+json"),
            "{name}: content type {}",
            a.content_type
        );
        let p = a.json();
        assert_eq!(p["code"], code, "{name}: {p}");
        assert_eq!(p["status"], status, "{name}");
        for k in ["type", "title", "detail"] {
            assert!(p[k].as_str().is_some_and(|s| !s.is_empty()), "{name}: no {k}");
        }
    }
    // Still alive and still right.
    let ok =
        answer(test::call_service(&app, post("/v1/analyze", Some("text/plain"), REPORT).to_request()).await)
            .await;
    assert_eq!(ok.status, 200);
}

fn concurrent_reports(n: usize) -> Vec<String> {
    let causes = [
        "a configuration change lowered the connection pool limit",
        "a bug in the upstream payment library",
        "a memory leak in the session cache",
        "the deployment of release 4.2.1",
        "a fibre cut at the data centre",
    ];
    (0..n)
        .map(|i| {
            format!(
                "Incident {i}: at 10:{:02} UTC the API returned errors for {} minutes. Root cause: {}.",
                i % 60,
                i % 17 + 1,
                causes[i % causes.len()]
            )
        })
        .collect()
}

#[actix_web::test]
async fn two_hundred_concurrent_requests_are_all_answered() {
    let st = state().await;
    let app = test::init_service(create_app(st)).await;
    let reports = concurrent_reports(200);
    let calls = reports.iter().map(|r| {
        let req = post("/v1/analyze", Some("application/json"), json!({"text": r}).to_string()).to_request();
        test::call_service(&app, req)
    });
    let answers = join_all(calls).await;
    let mut ok = 0;
    for res in answers {
        let a = answer(res).await;
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        assert!(a.json()["root_cause"]["label"].is_string());
        ok += 1;
    }
    assert_eq!(ok, 200);
}

#[actix_web::test]
async fn a_tiny_queue_sheds_load_with_503_and_retry_after() {
    let server = ServerSettings { queue_capacity: 1, retry_after: 2, ..ServerSettings::default() };
    let st = AppState::start(&settings(), &server).expect("worker starts");
    st.worker.ready().await.expect("model loads");
    let app = test::init_service(create_app(st.clone())).await;
    let reports = concurrent_reports(200);
    let calls = reports
        .iter()
        .map(|r| test::call_service(&app, post("/v1/analyze", Some("text/plain"), r.clone()).to_request()));
    let (mut ok, mut shed) = (0, 0);
    for res in join_all(calls).await {
        let a = answer(res).await;
        match a.status {
            200 => ok += 1,
            503 => {
                assert_eq!(a.retry_after.as_deref(), Some("2"));
                assert!(a.content_type.starts_with("application/problem+json"));
                assert_eq!(a.json()["code"], "overloaded");
                shed += 1;
            }
            s => panic!("unexpected status {s}: {}", String::from_utf8_lossy(&a.body)),
        }
    }
    assert_eq!(ok + shed, 200);
    assert!(ok >= 1, "the queue admitted nothing");
    assert!(shed >= 1, "a one-slot queue took 200 simultaneous requests");
    st.worker.stop().await;
}

#[actix_web::test]
async fn api_keys_guard_v1_but_not_health_or_metrics() {
    let st = AppState { api_keys: Arc::new(vec!["s3cret".into(), "other".into()]), ..state().await };
    let no_key = call(st.clone(), post("/v1/analyze", Some("text/plain"), REPORT)).await;
    assert_eq!(no_key.status, 401);
    assert_eq!(no_key.json()["code"], "unauthorized");
    let wrong = call(
        st.clone(),
        post("/v1/embed", Some("application/json"), r#"{"inputs":"x"}"#)
            .insert_header((header::AUTHORIZATION, "Bearer nope")),
    )
    .await;
    assert_eq!(wrong.status, 401);
    let right = call(
        st.clone(),
        post("/v1/embed", Some("application/json"), r#"{"inputs":"x"}"#)
            .insert_header((header::AUTHORIZATION, "Bearer s3cret")),
    )
    .await;
    assert_eq!(right.status, 200);
    for open in ["/health", "/metrics", "/openapi.json", "/docs"] {
        assert_eq!(call(st.clone(), test::TestRequest::get().uri(open)).await.status, 200, "{open}");
    }
}

#[actix_web::test]
async fn a_model_that_cannot_load_answers_503_not_a_crash() {
    let mut s = settings();
    s.model_dir = Some("/nonexistent/rootline-model".into());
    let st = AppState::start(&s, &ServerSettings::default()).expect("worker starts");
    assert!(st.worker.ready().await.is_err());
    let h = call(st.clone(), test::TestRequest::get().uri("/health")).await;
    assert_eq!(h.status, 503);
    assert_eq!(h.json()["code"], "model_unavailable");
    let a = call(st, post("/v1/analyze", Some("text/plain"), REPORT)).await;
    assert_eq!(a.status, 503);
    assert!(a.retry_after.is_some());
    assert_eq!(a.json()["code"], "model_unavailable");
}
