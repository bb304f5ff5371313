//! Slow and greedy clients (slowloris), on loopback and bounded in count and time: connections
//! that never finish their headers hold only their own address's share of the server, are
//! closed when the header timeout passes, and over a cap a connection is closed at once
//! instead of using up the server's file descriptors.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{Db, TestApp, spawn_app_with};

/// A guard against hanging on a bug; never a timing assertion.
const PATIENCE: Duration = Duration::from_secs(30);

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// A connection from `from` (any 127.0.0.0/8 address is this host) that sends half a request.
async fn slow_client(app: &TestApp, from: IpAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    let server: SocketAddr = app.url.trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: todokit\r\nX-Slow: ").await.unwrap();
    stream
}

/// What the server sends before it closes the connection (or until `PATIENCE`).
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buffer = [0u8; 1024];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server did not close the connection");
    received
}

/// `/healthz` through a new connection from `from`.
async fn health_from(app: &TestApp, from: IpAddr) -> reqwest::StatusCode {
    let client = reqwest::Client::builder().local_address(from).build().unwrap();
    client.get(format!("{}/healthz", app.url)).send().await.unwrap().status()
}

#[tokio::test]
async fn slow_clients_hold_their_own_share_and_health_still_answers() {
    let Some(app) = spawn_app_with(Db::Sqlite, |config| {
        config.max_connections = 100;
        config.max_connections_per_address = 4;
        config.header_timeout_secs = 3600;
    })
    .await
    else {
        return;
    };
    let mut slow = Vec::new();
    for _ in 0..4 {
        slow.push(slow_client(&app, loopback(1)).await);
    }
    // Over its address's share: closed at once, unanswered.
    let mut refused = slow_client(&app, loopback(1)).await;
    assert_eq!(read_until_closed(&mut refused).await, b"");
    // Everyone else is served meanwhile.
    assert_eq!(health_from(&app, loopback(2)).await, 200);
    assert_eq!(health_from(&app, loopback(3)).await, 200);
    // The slow ones are still open, waiting for the rest of their headers.
    let mut one = slow.pop().unwrap();
    one.write_all(b"1\r\n\r\n").await.unwrap();
    let answer = String::from_utf8(read_until_closed_or_answered(&mut one).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Reads until a whole response head has arrived (or the connection closed).
async fn read_until_closed_or_answered(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    tokio::time::timeout(PATIENCE, async {
        let mut buffer = [0u8; 1024];
        while !received.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await
    .expect("no answer");
    received
}

#[tokio::test]
async fn over_the_total_cap_a_connection_is_closed_at_once_until_one_leaves() {
    let Some(app) = spawn_app_with(Db::Sqlite, |config| {
        config.max_connections = 3;
        config.max_connections_per_address = 100;
        config.header_timeout_secs = 3600;
    })
    .await
    else {
        return;
    };
    let mut slow = Vec::new();
    for from in [1, 2, 3] {
        slow.push(slow_client(&app, loopback(from)).await);
    }
    let mut refused = slow_client(&app, loopback(4)).await;
    assert_eq!(read_until_closed(&mut refused).await, b"");
    // One leaves: its place is given back (once the server has seen it go).
    drop(slow.pop());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let client = reqwest::Client::builder().local_address(loopback(4)).build().unwrap();
        if client.get(format!("{}/healthz", app.url)).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the place was never given back");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed_after_the_header_timeout() {
    let Some(app) = spawn_app_with(Db::Sqlite, |config| config.header_timeout_secs = 1).await else {
        return;
    };
    let mut slow = slow_client(&app, loopback(1)).await;
    let sent = read_until_closed(&mut slow).await;
    assert!(!String::from_utf8_lossy(&sent).contains("200 OK"), "{}", String::from_utf8_lossy(&sent));

    // A kept-alive connection that goes quiet after its answer is closed too.
    let mut idle = slow_client(&app, loopback(1)).await;
    idle.write_all(b"1\r\n\r\n").await.unwrap();
    let answer = read_until_closed(&mut idle).await;
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}
