//! The client's address behind reverse proxies, and the throttles keyed on it: forwarding
//! headers are believed from `--trusted-proxies` only; failed sign-ins count per account and
//! address, so a shared address never locks everyone out; sign-ups are limited per address.
//! Clients come from distinct loopback addresses (all of 127.0.0.0/8 is this host).

use std::net::IpAddr;

use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, spawn_app_with};

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// POSTs `body` to `path` from `from`, with an `X-Forwarded-For` header when given.
async fn post_from(app: &TestApp, from: IpAddr, forwarded_for: Option<&str>, path: &str, body: Value) -> u16 {
    let client = reqwest::Client::builder().local_address(from).build().unwrap();
    let mut request = client.post(format!("{}{path}", app.url)).json(&body);
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn sign_in(
    app: &TestApp,
    from: IpAddr,
    forwarded_for: Option<&str>,
    email: &str,
    password: &str,
) -> u16 {
    let credentials = json!({"email": email, "password": password});
    post_from(app, from, forwarded_for, "/api/auth/sign-in", credentials).await
}

async fn sign_up(app: &TestApp, from: IpAddr, forwarded_for: Option<&str>) -> u16 {
    let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
    let credentials = json!({"email": email, "password": "correct horse battery"});
    post_from(app, from, forwarded_for, "/api/auth/sign-up", credentials).await
}

#[tokio::test]
async fn failed_sign_ins_from_a_shared_address_lock_out_no_one_else() {
    let Some(app) = spawn_app_with(Db::Sqlite, |config| config.signin_attempts = 3).await else { return };
    app.sign_up("alice@example.com", "alice's password").await;
    app.sign_up("bob@example.com", "bob's password").await;
    let office = loopback(1);

    // Someone in the office guesses Alice's password: that pair is held back…
    for _ in 0..3 {
        assert_eq!(sign_in(&app, office, None, "alice@example.com", "guess").await, 401);
    }
    assert_eq!(sign_in(&app, office, None, "alice@example.com", "alice's password").await, 429);
    // …but not Bob in the same office, nor Alice from home.
    assert_eq!(sign_in(&app, office, None, "bob@example.com", "bob's password").await, 200);
    assert_eq!(sign_in(&app, loopback(2), None, "alice@example.com", "alice's password").await, 200);

    // Many accounts guessed from one address: its own ceiling (ten times the pair's) holds it
    // back, for every account.
    for n in 0..27 {
        assert_eq!(sign_in(&app, office, None, &format!("nobody-{n}@example.com"), "guess").await, 401);
    }
    assert_eq!(sign_in(&app, office, None, "bob@example.com", "bob's password").await, 429);
    assert_eq!(sign_in(&app, loopback(3), None, "bob@example.com", "bob's password").await, 200);
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    // Not trusted: a client making up a new X-Forwarded-For each time is still one address.
    let Some(app) = spawn_app_with(Db::Sqlite, |config| config.signin_attempts = 3).await else { return };
    app.sign_up("carol@example.com", "carol's password").await;
    for n in 0..3 {
        let spoofed = format!("203.0.113.{n}");
        assert_eq!(sign_in(&app, loopback(1), Some(&spoofed), "carol@example.com", "guess").await, 401);
    }
    let fresh = Some("203.0.113.99");
    assert_eq!(sign_in(&app, loopback(1), fresh, "carol@example.com", "carol's password").await, 429);

    // Behind a trusted proxy (127.0.0.1), each client is the address the proxy names.
    let Some(app) = spawn_app_with(Db::Sqlite, |config| {
        config.signin_attempts = 3;
        config.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
    else {
        return;
    };
    app.sign_up("carol@example.com", "carol's password").await;
    let proxy = loopback(1);
    for _ in 0..3 {
        assert_eq!(sign_in(&app, proxy, Some("198.51.100.1"), "carol@example.com", "guess").await, 401);
    }
    let guesser = Some("198.51.100.1");
    assert_eq!(sign_in(&app, proxy, guesser, "carol@example.com", "carol's password").await, 429);
    // The guesser's own chain: what it wrote to the left of the proxy's entry is not believed.
    let disguised = Some("198.51.100.7, 198.51.100.1");
    assert_eq!(sign_in(&app, proxy, disguised, "carol@example.com", "carol's password").await, 429);
    // Carol, through the same proxy from her own address, is not held back.
    let carol = Some("198.51.100.2");
    assert_eq!(sign_in(&app, proxy, carol, "carol@example.com", "carol's password").await, 200);
    // Another peer is not a proxy: its header is ignored, it counts as itself.
    for _ in 0..3 {
        assert_eq!(sign_in(&app, loopback(2), carol, "carol@example.com", "guess").await, 401);
    }
    assert_eq!(sign_in(&app, loopback(2), carol, "carol@example.com", "carol's password").await, 429);
    assert_eq!(sign_in(&app, proxy, carol, "carol@example.com", "carol's password").await, 200);
}

#[tokio::test]
async fn sign_ups_are_limited_per_address() {
    let Some(app) = spawn_app_with(Db::Sqlite, |config| {
        config.signups_per_hour = 3;
        config.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await
    else {
        return;
    };
    for _ in 0..3 {
        assert_eq!(sign_up(&app, loopback(2), None).await, 201);
    }
    let client = reqwest::Client::builder().local_address(loopback(2)).build().unwrap();
    let refused = client
        .post(format!("{}/api/auth/sign-up", app.url))
        .json(&json!({"email": "one-more@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let refused = TestApp::read(refused).await;
    let retry_after: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    refused.expect_error(429, "rate_limited");
    // Other addresses, also behind the trusted proxy, are not affected.
    assert_eq!(sign_up(&app, loopback(3), None).await, 201);
    assert_eq!(sign_up(&app, loopback(1), Some("198.51.100.5")).await, 201);
    // A refused sign-up created nothing: that email is still free.
    assert_eq!(sign_up(&app, loopback(4), None).await, 201);
    app.sign_up("one-more@example.com", "correct horse battery").await;
}
