//! Clients that cannot hold the server: slow headers, idle connections, too
//! many connections, slow and concurrent bodies. Real sockets against the
//! real binary, with the limits set low.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::Server;

/// A server with low limits; `overrides` (flag, value) replace defaults.
fn server_with(dir: &std::path::Path, overrides: &[(&str, &str)]) -> Server {
    let data = dir.join("data");
    let mut limits = vec![
        ("--header-timeout-secs", "2"),
        ("--idle-timeout-secs", "1"),
        ("--body-timeout-secs", "1"),
        ("--max-connections", "4"),
        ("--max-inflight-bodies", "1"),
    ];
    for (flag, value) in overrides {
        limits.retain(|(f, _)| f != flag);
        limits.push((flag, value));
    }
    let mut args = vec!["--data-dir", data.to_str().unwrap()];
    args.extend(limits.iter().flat_map(|(f, v)| [*f, *v]));
    Server::start(&args, dir)
}

fn limited_server(dir: &std::path::Path) -> Server {
    server_with(dir, &[])
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.host()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection; how long that took.
fn time_to_close(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return started.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return started.elapsed(),
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

/// One whole response read from `stream` (headers, and a Content-Length body).
fn response(stream: &mut TcpStream) -> String {
    let mut text = Vec::new();
    let mut buf = [0u8; 1];
    while !text.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut buf).unwrap(), 1, "closed mid-response");
        text.push(buf[0]);
    }
    let head = String::from_utf8(text).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    format!("{head}{}", String::from_utf8_lossy(&body))
}

const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn slow_headers_are_closed_by_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    // Idle time far longer than the header timeout: only the latter can close.
    let server = server_with(dir.path(), &[("--idle-timeout-secs", "30")]);
    // Slowloris: a header line every 400 ms, never the end of the headers.
    let mut slow = connect(&server);
    let started = Instant::now();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    for i in 0..20 {
        std::thread::sleep(Duration::from_millis(400));
        if slow.write_all(format!("X-A{i}: 1\r\n").as_bytes()).is_err() {
            break;
        }
    }
    let waited = started.elapsed() + time_to_close(&mut slow);
    assert!(
        waited >= Duration::from_millis(1800) && waited < Duration::from_millis(4000),
        "closed after {waited:?}"
    );
}

#[test]
fn idle_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = limited_server(dir.path());
    // Idle: one request served, then nothing: closed after the idle time.
    let mut idle = connect(&server);
    idle.write_all(HEALTH).unwrap();
    assert!(response(&mut idle).starts_with("HTTP/1.1 200"));
    let waited = time_to_close(&mut idle);
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
    // A connection that keeps asking is not idle.
    let mut busy = connect(&server);
    for _ in 0..4 {
        busy.write_all(HEALTH).unwrap();
        assert!(response(&mut busy).starts_with("HTTP/1.1 200"));
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn connections_beyond_the_cap_are_closed_and_the_cap_frees_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = limited_server(dir.path());
    let mut held: Vec<TcpStream> = (0..4).map(|_| connect(&server)).collect();
    for stream in &mut held {
        stream.write_all(HEALTH).unwrap();
        assert!(response(stream).starts_with("HTTP/1.1 200"));
    }
    // The fifth is closed without an answer.
    let mut fifth = connect(&server);
    let _ = fifth.write_all(HEALTH);
    let waited = time_to_close(&mut fifth);
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    // The held ones still work; once one closes, a new one is served.
    held[0].write_all(HEALTH).unwrap();
    assert!(response(&mut held[0]).starts_with("HTTP/1.1 200"));
    drop(held.pop());
    std::thread::sleep(Duration::from_millis(200));
    let mut again = connect(&server);
    again.write_all(HEALTH).unwrap();
    assert!(response(&mut again).starts_with("HTTP/1.1 200"));
    assert!(server.log().contains("connection limit is reached"));
}

#[test]
fn slow_bodies_time_out_and_concurrent_bodies_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let server = limited_server(dir.path());
    let post = |length: usize| {
        format!(
            "POST /v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {length}\r\n\r\n"
        )
    };
    // A body that stops halfway holds the only body slot...
    let mut slow = connect(&server);
    slow.write_all(post(100).as_bytes()).unwrap();
    slow.write_all(b"{\"auth\":").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // ...so another body is refused at once, without being read.
    let mut other = connect(&server);
    other.write_all(post(2).as_bytes()).unwrap();
    other.write_all(b"{}").unwrap();
    let refused = response(&mut other);
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("APIGW.9503"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    // A request without a body still goes through.
    let mut bodiless = connect(&server);
    bodiless.write_all(HEALTH).unwrap();
    assert!(response(&mut bodiless).starts_with("HTTP/1.1 200"));
    // The slow body times out with 408, and the connection is closed.
    let timed_out = response(&mut slow);
    assert!(timed_out.starts_with("HTTP/1.1 408"), "{timed_out}");
    assert!(timed_out.contains("APIGW.9408"), "{timed_out}");
    time_to_close(&mut slow);
    // The slot is free again.
    let mut next = connect(&server);
    next.write_all(post(2).as_bytes()).unwrap();
    next.write_all(b"{}").unwrap();
    let answer = response(&mut next);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

#[test]
fn an_unauthenticated_client_cannot_make_a_route_buffer_past_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = limited_server(dir.path());
    // 100 KiB to the token route (limit 64 KiB), chunked: refused while reading.
    let mut stream = connect(&server);
    stream
        .write_all(
            b"POST /v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Transfer-Encoding: chunked\r\n\r\n",
        )
        .unwrap();
    let chunk = vec![b' '; 16 * 1024];
    let mut answer = String::new();
    for _ in 0..7 {
        if stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .and_then(|()| stream.write_all(&chunk))
            .and_then(|()| stream.write_all(b"\r\n"))
            .is_err()
        {
            break;
        }
    }
    answer.push_str(&response(&mut stream));
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("65536 bytes"), "{answer}");
}

#[test]
fn an_http2_client_sending_frames_but_no_request_is_idle() {
    let dir = tempfile::tempdir().unwrap();
    let server = limited_server(dir.path());
    // h2c with prior knowledge: the preface, empty SETTINGS, then a PING
    // every 300 ms (traffic, but never a request).
    let mut stream = connect(&server);
    let started = Instant::now();
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        let _ = writer.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0");
        for _ in 0..30 {
            std::thread::sleep(Duration::from_millis(300));
            let ping = b"\0\0\x08\x06\0\0\0\0\0pingpong";
            if writer.write_all(ping).is_err() {
                break;
            }
        }
    });
    let waited = started.elapsed() + time_to_close(&mut stream);
    assert!(
        waited < Duration::from_millis(3500),
        "closed after {waited:?}"
    );
}
