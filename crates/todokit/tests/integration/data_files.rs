//! The data directory and the files in it are private to their owner, whatever the umask the
//! server starts under: the database holds every user's tasks and chats, `jwt_secret` signs
//! their sign-ins.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

#[tokio::test]
async fn the_data_directory_and_files_are_private_whatever_the_umask() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("new").join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    // The most permissive umask: every file would be created world-readable and -writable.
    let mut server = Command::new("/bin/sh")
        .args(["-c", "umask 000 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_todokit"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(&data_dir)
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(format!("{url}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
        assert!(Instant::now() < deadline, "the server did not become ready within 60 s");
        // Readiness polling interval, not a timing assumption.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A write, so the write-ahead log has content too.
    let signed_up = client
        .post(format!("{url}/api/auth/sign-up"))
        .json(&json!({"email": "files@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 201);

    let mode = |name: &str| {
        let path = data_dir.join(name);
        let metadata = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        format!("{:o}", metadata.permissions().mode() & 0o777)
    };
    let modes: Vec<(&str, String)> =
        ["", "todokit.db", "todokit.db-wal", "todokit.db-shm", "jwt_secret"].map(|f| (f, mode(f))).into();
    assert_eq!(
        modes,
        [
            ("", "700".into()),
            ("todokit.db", "600".into()),
            ("todokit.db-wal", "600".into()),
            ("todokit.db-shm", "600".into()),
            ("jwt_secret", "600".into())
        ]
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
