//! Clients that announce too much, send too slowly, or open too many connections are refused or
//! cut, at once or at their deadline, while a normal client goes on being served.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Server;

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection or `limit` passes; returns what arrived.
fn read_answer(stream: &mut TcpStream, limit: Duration) -> String {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// A connection inside a `PUT` that announces `announced` body bytes and has sent only `sent`.
fn stalled_put(server: &Server, announced: u64, sent: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr(server)).unwrap();
    write!(
        stream,
        "PUT /v1/records/stalled HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {announced}\r\n\r\n{sent}"
    )
    .unwrap();
    stream
}

fn started(extra: &[&str]) -> (Server, tempfile::TempDir) {
    let temp = tempfile::tempdir().unwrap();
    let server = Server::start_in(&temp.path().join("db"), extra);
    (server, temp)
}

fn a_normal_put_is_answered(server: &Server) -> Duration {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let sent = Instant::now();
    let status = client
        .put(server.url("/v1/records/normal"))
        .header("Content-Type", "application/json")
        .body(r#"{"n": 1}"#)
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 200);
    sent.elapsed()
}

#[test]
fn a_body_announced_over_the_limit_is_refused_before_it_is_sent() {
    let (server, _temp) = started(&[]);
    let sent = Instant::now();
    let mut stream = stalled_put(&server, 64 << 20, "");
    // A first megabyte of the 64 announced; the server must not wait for the rest.
    let _ = stream.write_all(&vec![b' '; 1 << 20]);
    let answer = read_answer(&mut stream, Duration::from_secs(5));
    let took = sent.elapsed();
    eprintln!("64 MiB announced: answered in {} ms", took.as_millis());
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(answer.contains("payload_too_large"), "{answer}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // Nothing was stored, and the server goes on serving.
    let status = reqwest::blocking::get(server.url("/v1/records/stalled"))
        .unwrap()
        .status();
    assert_eq!(status, 404);
    a_normal_put_is_answered(&server);
}

#[test]
fn a_chunked_body_is_refused_once_it_passes_the_limit_without_waiting_for_its_end() {
    let (server, _temp) = started(&[]);
    let mut stream = TcpStream::connect(addr(&server)).unwrap();
    write!(
        stream,
        "PUT /v1/records/chunked HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    // Five chunks of 1 MiB (one more than the 4 MiB limit), and never the closing chunk: the
    // server must answer once the limit is passed, not wait for the body to end.
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..5 {
        if write!(stream, "{:x}\r\n", chunk.len()).is_err()
            || stream.write_all(&chunk).is_err()
            || stream.write_all(b"\r\n").is_err()
        {
            break; // the server has answered and closed
        }
    }
    let answer = read_answer(&mut stream, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    let status = reqwest::blocking::get(server.url("/v1/records/chunked"))
        .unwrap()
        .status();
    assert_eq!(status, 404, "a refused body stored nothing");
    let metrics = reqwest::blocking::get(server.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("fielddb_bodies_refused_total 1"),
        "{metrics}"
    );
}

#[test]
fn five_hundred_trickling_bodies_are_cut_at_their_deadline_while_a_normal_client_is_served() {
    let (server, _temp) = started(&["--body-timeout", "12s"]);
    let mut slow: Vec<TcpStream> = (0..500).map(|_| stalled_put(&server, 100, "{")).collect();
    // A byte every 5 s from each slow client (until the server cuts them at 12 s), while a
    // normal client puts and gets 10 times a second.
    let mut latencies = Vec::new();
    let start = Instant::now();
    let mut bytes_sent = 0;
    while start.elapsed() < Duration::from_secs(11) {
        if start.elapsed() >= Duration::from_secs(5 * bytes_sent) {
            for stream in &mut slow {
                let _ = stream.write_all(b" ");
            }
            bytes_sent += 1;
        }
        latencies.push(a_normal_put_is_answered(&server));
        std::thread::sleep(Duration::from_millis(100));
    }
    latencies.sort();
    let worst = latencies[latencies.len() - 1];
    eprintln!(
        "beside 500 trickling bodies: {} normal puts, median {} ms, worst {} ms",
        latencies.len(),
        latencies[latencies.len() / 2].as_millis(),
        worst.as_millis()
    );
    assert!(worst < Duration::from_secs(1), "{worst:?}");
    let cut = Instant::now();
    for stream in &mut slow {
        let answer = read_answer(stream, Duration::from_secs(10));
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("request_timeout"), "{answer}");
    }
    eprintln!(
        "500 slow clients cut with 408 by {} ms after the start (body timeout 12 s)",
        start.elapsed().as_millis()
    );
    assert!(
        cut.elapsed() < Duration::from_secs(8),
        "{:?}",
        cut.elapsed()
    );
    let status = reqwest::blocking::get(server.url("/v1/records/stalled"))
        .unwrap()
        .status();
    assert_eq!(status, 404, "a cut body stored nothing");
    let metrics = reqwest::blocking::get(server.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("fielddb_bodies_timed_out_total 500"),
        "{metrics}"
    );
}

#[test]
fn headers_that_never_finish_close_the_connection_at_the_header_timeout() {
    let (server, _temp) = started(&["--header-timeout", "1s"]);
    let mut stream = TcpStream::connect(addr(&server)).unwrap();
    stream
        .write_all(b"GET /v1/records/x HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let start = Instant::now();
    let answer = read_answer(&mut stream, Duration::from_secs(10));
    let took = start.elapsed();
    assert!(!answer.contains(" 200 "), "{answer}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );
    // An idle kept-alive connection is closed the same way.
    let mut idle = TcpStream::connect(addr(&server)).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let start = Instant::now();
    let answer = read_answer(&mut idle, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn connections_over_the_limit_are_answered_503_at_once() {
    let (server, _temp) = started(&["--max-connections", "4"]);
    // Four connections, each inside a request whose body has not arrived: all held.
    let held: Vec<TcpStream> = (0..4).map(|_| stalled_put(&server, 10, "")).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut over = TcpStream::connect(addr(&server)).unwrap();
    let sent = Instant::now();
    let _ = over.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    let answer = read_answer(&mut over, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(answer.contains("overloaded"), "{answer}");
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "{:?}",
        sent.elapsed()
    );
    // Once they go, connections are accepted again.
    drop(held);
    let start = Instant::now();
    loop {
        let answered = reqwest::blocking::get(server.url("/health")).map(|r| r.status().as_u16());
        if answered.as_ref().is_ok_and(|s| *s == 200) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{answered:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = reqwest::blocking::get(server.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("fielddb_connections_refused_total "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(refused >= 1, "{metrics}");
}

#[test]
fn requests_over_the_in_flight_limit_are_shed_at_once_and_health_still_answers() {
    let (server, _temp) = started(&["--max-in-flight", "2"]);
    // Two requests in flight, each waiting for a body that has not arrived.
    let held: Vec<TcpStream> = (0..2).map(|_| stalled_put(&server, 10, "")).collect();
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    let response = reqwest::blocking::get(server.url("/v1/records/x")).unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body = response.text().unwrap();
    assert!(body.contains("overloaded"), "{body}");
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "{:?}",
        sent.elapsed()
    );
    let health = reqwest::blocking::get(server.url("/health")).unwrap();
    assert_eq!(health.status(), 200);
    drop(held);
    let start = Instant::now();
    loop {
        let status = reqwest::blocking::get(server.url("/v1/records/x"))
            .unwrap()
            .status()
            .as_u16();
        if status == 404 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "still {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = reqwest::blocking::get(server.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        !metrics.contains("fielddb_requests_shed_total 0\n"),
        "{metrics}"
    );
}

/// The resident memory of process `pid`, in bytes (Linux).
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[test]
fn two_thousand_connections_against_a_limit_of_256_get_answers_or_503s_and_memory_stays_small() {
    let (server, _temp) = started(&["--max-connections", "256"]);
    let mut streams = Vec::new();
    for _ in 0..2000 {
        let mut stream = TcpStream::connect(addr(&server)).unwrap();
        stream
            .write_all(b"GET /v1/records/none HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        streams.push(stream);
    }
    let (mut answered, mut refused) = (0, 0);
    for stream in &mut streams {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        match &head {
            b"HTTP/1.1 404" => answered += 1,
            b"HTTP/1.1 503" => refused += 1,
            other => panic!("unexpected answer {:?}", String::from_utf8_lossy(other)),
        }
    }
    let rss = resident_bytes(server.child.id());
    eprintln!(
        "2,000 connections, limit 256: {answered} answered 404, {refused} refused 503; \
         server resident memory {} MiB",
        rss >> 20
    );
    assert_eq!(answered + refused, 2000);
    assert!(answered >= 256 && refused > 0, "{answered} {refused}");
    assert!(rss > 0 && rss < 200 << 20, "{rss} bytes");
}
