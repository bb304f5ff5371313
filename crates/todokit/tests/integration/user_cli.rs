//! The operator's CLI (`todokit user …`, `todokit invite create`), run as the built binary on
//! the same database as a running server: its data directory (SQLite) or its database URL
//! (PostgreSQL).

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::sessions::{ACROSS_REPLICAS, within};

on_both_backends!(
    operators_add_list_and_remove_accounts,
    operators_reset_passwords_and_create_invites,
    on_a_terminal_the_password_is_asked_twice_without_echo,
    ctrl_c_at_the_password_prompt_leaves_the_terminal_echoing,
);

/// Upper bound for waiting on the CLI; never a timing assertion, only a guard against hanging.
const PATIENCE: Duration = Duration::from_secs(20);

/// Runs `todokit <args>` on `app`'s database, with `stdin` as its input.
fn todokit(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let mut command = on_database(Command::new(env!("CARGO_BIN_EXE_todokit")), app);
    let mut child = command.args(args).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// `command` with `app`'s database in its environment (and nothing else), its pipes ours.
fn on_database(mut command: Command, app: &TestApp) -> Command {
    command
        .env_clear()
        .env("TODOKIT_DATA_DIR", app.data_dir.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(pg) = &app.pg {
        let mut url = url::Url::parse("postgres://localhost").unwrap();
        url.set_host(Some(pg.get_host())).unwrap();
        url.set_port(Some(pg.get_port())).unwrap();
        url.set_username(pg.get_username()).unwrap();
        url.set_path(pg.get_database().unwrap());
        if let Some(options) = pg.get_options() {
            url.query_pairs_mut().append_pair("options", options);
        }
        command.env("DATABASE_URL", url.as_str());
    }
    command
}

#[track_caller]
fn succeeded(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "failed: {stderr}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[track_caller]
fn failed_saying(output: &Output, words: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "succeeded: {}", String::from_utf8_lossy(&output.stdout));
    assert!(stderr.contains(words), "{stderr}");
}

async fn signs_in(app: &TestApp, email: &str, password: &str) -> Option<String> {
    let response = app
        .send(Method::POST, "/api/auth/sign-in", None, Some(json!({"email": email, "password": password})))
        .await;
    (response.status == 200).then(|| response.body["token"].as_str().unwrap().to_owned())
}

async fn operators_add_list_and_remove_accounts(app: TestApp) {
    let out = succeeded(&todokit(
        &app,
        &["user", "add", "--email", "Op@Example.com", "--password", "operator-pass"],
        "",
    ));
    assert!(out.contains("Op@Example.com") && out.contains("administrator"), "{out}");
    // Without --password and not on a terminal: one line of stdin.
    succeeded(&todokit(&app, &["user", "add", "--email", "piped@example.com"], "piped password\n"));
    failed_saying(
        &todokit(&app, &["user", "add", "--email", "op@example.com", "--password", "another-pass"], ""),
        "exists",
    );
    failed_saying(
        &todokit(&app, &["user", "add", "--email", "weak@example.com", "--password", "short"], ""),
        "at least 8",
    );
    failed_saying(
        &todokit(&app, &["user", "add", "--email", "not-an-email", "--password", "long enough"], ""),
        "email",
    );

    // The running server knows them at once.
    let token =
        signs_in(&app, "op@example.com", "operator-pass").await.expect("the operator's account signs in");
    let piped =
        signs_in(&app, "piped@example.com", "piped password").await.expect("the piped password works");
    let me = app.get("/api/auth/session", &token).await.expect(200);
    assert_eq!(me["is_admin"], true);
    assert_eq!(app.get("/api/auth/session", &piped).await.expect(200)["is_admin"], false);
    for title in ["a", "b"] {
        app.create_task(&piped, json!({"title": title})).await;
    }

    let list = succeeded(&todokit(&app, &["user", "list"], ""));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two accounts: {list}");
    assert!(lines[0].contains("EMAIL") && lines[0].contains("TASKS"), "{list}");
    let op: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!((op[0], op[2], op[3]), ("Op@Example.com", "yes", "0"), "{list}");
    let piped_row: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!((piped_row[0], piped_row[2], piped_row[3]), ("piped@example.com", "no", "2"), "{list}");

    failed_saying(&todokit(&app, &["user", "remove", "--email", "nobody@example.com"], ""), "no account");
    succeeded(&todokit(&app, &["user", "remove", "--email", "PIPED@example.com"], ""));
    let took = within(ACROSS_REPLICAS, || async { app.get("/api/tasks", &piped).await.status == 401 }).await;
    assert!(took.is_some(), "the removed account's session still works on the server");
    assert!(signs_in(&app, "piped@example.com", "piped password").await.is_none());
    let list = succeeded(&todokit(&app, &["user", "list"], ""));
    assert!(!list.contains("piped@example.com"), "{list}");
    // Its email is free again, for an empty account.
    let again = app.sign_up("piped@example.com", "a new password").await;
    assert_eq!(app.get("/api/tasks", &again).await.expect(200)["tasks"], json!([]));
    app.get("/api/tasks", &token).await.expect(200);
}

async fn operators_reset_passwords_and_create_invites(app: TestApp) {
    let token = app.sign_up("forgot@example.com", "old password").await;
    let bystander = app.sign_up("bystander@example.com", "old password").await;
    failed_saying(
        &todokit(
            &app,
            &["user", "reset-password", "--email", "nobody@example.com", "--password", "new password"],
            "",
        ),
        "no account",
    );
    succeeded(&todokit(&app, &["user", "reset-password", "--email", "forgot@example.com"], "new password\n"));
    let took = within(ACROSS_REPLICAS, || async { app.get("/api/tasks", &token).await.status == 401 }).await;
    assert!(took.is_some(), "the account's sessions end");
    assert!(signs_in(&app, "forgot@example.com", "old password").await.is_none());
    assert!(signs_in(&app, "forgot@example.com", "new password").await.is_some());
    app.get("/api/tasks", &bystander).await.expect(200);

    // An operator's invite code works once, on a server admitting sign-ups by invite.
    let app = app.restart(|config| config.signup = todokit::config::SignupMode::Invite).await;
    let code = succeeded(&todokit(&app, &["invite", "create"], "")).trim().to_owned();
    assert!(code.starts_with("inv_"), "{code}");
    let sign_up = |email: &'static str| {
        app.send(
            Method::POST,
            "/api/auth/sign-up",
            None,
            Some(json!({"email": email, "password": "long enough", "invite_code": code})),
        )
    };
    sign_up("invited@example.com").await.expect(201);
    sign_up("second@example.com").await.expect_error(403, "invalid_invite");
}

/// On a terminal, `user add` asks for the password twice and the terminal does not echo what
/// is typed, even when it is typed the moment the prompt shows.
async fn on_a_terminal_the_password_is_asked_twice_without_echo(app: TestApp) {
    const TYPED: &str = "typed at a terminal";
    let mut terminal = Terminal::run(&app, "user add --email tty@example.com", "");
    // Each answer is typed as soon as its prompt shows, as a quick typist or a script would.
    terminal.wait_for("New password: ");
    terminal.type_keys(&format!("{TYPED}\n"));
    terminal.wait_for("Again: ");
    terminal.type_keys(&format!("{TYPED}\n"));
    let (status, shown) = terminal.finish();
    assert!(status.success(), "{shown}");
    assert!(!shown.contains(TYPED), "the password was echoed: {shown:?}");
    assert!(signs_in(&app, "tty@example.com", TYPED).await.is_some(), "{shown}");
}

/// Ctrl-C at the password prompt ends the command, creates nothing, and leaves the terminal
/// echoing again (`stty -a`, run next on the same terminal, shows `echo`, not `-echo`).
async fn ctrl_c_at_the_password_prompt_leaves_the_terminal_echoing(app: TestApp) {
    let mut terminal = Terminal::run(&app, "user add --email interrupted@example.com", "; stty -a");
    terminal.wait_for("New password: ");
    terminal.type_keys("half a pass\u{3}");
    let (_, shown) = terminal.finish();
    assert!(shown.contains("interrupted"), "{shown}");
    let local_modes: Vec<&str> = shown.split_whitespace().filter(|mode| mode.ends_with("echo")).collect();
    assert_eq!(local_modes, ["echo"], "the terminal was left silent: {shown}");
    assert!(signs_in(&app, "interrupted@example.com", "half a pass").await.is_none());
    let listed = succeeded(&todokit(&app, &["user", "list"], ""));
    assert!(!listed.contains("interrupted@example.com"), "{listed}");
}

/// `todokit <args>` on a pseudo-terminal of its own (`script`, from util-linux, runs it there
/// and copies our pipes to and from it), typed at and read as a person would.
struct Terminal {
    child: std::process::Child,
    typing: Option<std::process::ChildStdin>,
    screen: std::sync::mpsc::Receiver<Vec<u8>>,
    reader: std::thread::JoinHandle<()>,
    shown: String,
}

impl Terminal {
    /// Runs `todokit <args>`, then the shell text `then` on the same terminal.
    fn run(app: &TestApp, args: &str, then: &str) -> Self {
        use std::io::Read;
        let binary = env!("CARGO_BIN_EXE_todokit");
        let mut script = on_database(Command::new("script"), app);
        let mut child = script
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["--quiet", "--return", "--command"])
            .arg(format!("'{binary}' {args}{then}"))
            .arg("/dev/null")
            .spawn()
            .expect("`script` (util-linux) runs the CLI on a terminal");
        let typing = child.stdin.take();
        let mut output = child.stdout.take().unwrap();
        let (chunks, screen) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 256];
            while let Ok(n) = output.read(&mut buffer) {
                if n == 0 || chunks.send(buffer[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Self { child, typing, screen, reader, shown: String::new() }
    }

    fn wait_for(&mut self, text: &str) {
        while !self.shown.contains(text) {
            let chunk = self
                .screen
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|_| panic!("no {text:?} in {:?}", self.shown));
            self.shown.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    fn type_keys(&mut self, keys: &str) {
        let typing = self.typing.as_mut().expect("still typing");
        typing.write_all(keys.as_bytes()).unwrap();
        typing.flush().unwrap();
    }

    /// Stops typing, waits for the end and returns the exit status and all that was shown.
    fn finish(mut self) -> (std::process::ExitStatus, String) {
        drop(self.typing.take());
        let status = self.child.wait().unwrap();
        self.reader.join().unwrap();
        for chunk in self.screen.try_iter() {
            self.shown.push_str(&String::from_utf8_lossy(&chunk));
        }
        (status, self.shown)
    }
}
