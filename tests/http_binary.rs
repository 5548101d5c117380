//! The real `rootline serve` binary over real HTTP: start on an ephemeral port, wait for `/health`,
//! analyze a report, then send SIGTERM in the middle of a streaming NDJSON batch and check that the
//! batch still arrives complete and the process exits 0 (graceful shutdown drains the model queue).
//!
//! The client is a few lines of HTTP/1.1 over `TcpStream` (`Connection: close`, chunked decoding),
//! which is all this needs and keeps a heavy HTTP client out of the dev-dependencies.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Kills the server if the test fails half-way, so no process outlives the test.
struct Server {
    child: Child,
    addr: String,
    log: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rootline"))
        .args(["serve", "--port", "0", "--log-format", "json", "--log", "info"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rootline starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    // Drains stderr for the whole run (a full pipe would block the server) and forwards lines.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut addr = None;
    for line in rx.iter() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if let Some(a) = v["fields"]["addr"].as_str().filter(|_| line.contains("listening on")) {
            addr = Some(a.to_string());
            break;
        }
    }
    let addr = addr.expect("the server logs its address");
    Server { child, addr, log: rx }
}

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

fn split_head(raw: &[u8]) -> Option<(u16, String, Vec<u8>)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head.to_ascii_lowercase(), raw[end + 4..].to_vec()))
}

/// Decodes a chunked body (sizes in hex, each chunk followed by CRLF, a 0-size chunk ends it).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[eol + 2 + size + 2..];
    }
    out
}

fn send(addr: &str, method: &str, path: &str, content_type: &str, body: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(300))).expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write head");
    s.write_all(body).expect("write body");
    s
}

fn finish(mut s: TcpStream, mut raw: Vec<u8>) -> Reply {
    s.read_to_end(&mut raw).expect("read reply");
    let (status, headers, body) = split_head(&raw).expect("an HTTP reply");
    let body = if headers.contains("transfer-encoding: chunked") { dechunk(&body) } else { body };
    Reply { status, headers, body }
}

fn request(addr: &str, method: &str, path: &str, content_type: &str, body: &[u8]) -> Reply {
    finish(send(addr, method, path, content_type, body), Vec::new())
}

const REPORT: &str = "On 3 May 2024 at 14:02 UTC the search API began timing out. Alerts fired at 14:05. \
Root cause: a memory leak in the result cache exhausted the heap on every node. We restarted the nodes at \
14:40 and deployed a fix at 16:10.";

#[test]
fn serve_over_real_http_and_shut_down_gracefully() {
    let server = start();
    let addr = server.addr.clone();
    // Bounded wait for the model: 200 is the only answer that ends it early.
    let mut healthy = false;
    for _ in 0..1200 {
        if request(&addr, "GET", "/health", "text/plain", b"").status == 200 {
            healthy = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(healthy, "the model never loaded");

    let r = request(&addr, "POST", "/v1/analyze", "text/plain", REPORT.as_bytes());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let a: serde_json::Value = serde_json::from_slice(&r.body).expect("Analysis JSON");
    assert!(a["root_cause"]["label"].is_string());

    let bad = request(&addr, "POST", "/v1/analyze", "application/json", b"{\"text\": 5}");
    assert_eq!(bad.status, 400);
    assert!(bad.headers.contains("content-type: application/problem+json"));

    // A streaming batch is in flight (its head has arrived) when SIGTERM lands: it must finish.
    let n = 24;
    let body: String = (0..n)
        .map(|i| {
            format!(
                "{}\n",
                serde_json::json!({"id": format!("b{i}"), "text": format!("Batch item {i}. {REPORT}")})
            )
        })
        .collect();
    let mut s = send(&addr, "POST", "/v1/analyze/batch", "application/x-ndjson", body.as_bytes());
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while split_head(&raw).is_none() {
        let k = s.read(&mut buf).expect("read head");
        assert!(k > 0, "connection closed before the head");
        raw.extend_from_slice(&buf[..k]);
    }
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(killed.success());
    let r = finish(s, raw);
    assert_eq!(r.status, 200);
    let lines: Vec<serde_json::Value> = String::from_utf8(r.body)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), n);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["id"], format!("b{i}"));
        assert!(l["root_cause"]["label"].is_string(), "line {i}: {l}");
    }

    let mut server = server;
    let status = server.child.wait().expect("the server exits");
    assert!(status.success(), "exit status {status}");
    let log: Vec<String> = server.log.iter().collect();
    assert!(log.iter().any(|l| l.contains("shutdown complete")), "no clean shutdown in the log");
}
