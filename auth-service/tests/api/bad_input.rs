//! Bad input against every route of auth-service that reads one (the signup and login bodies, the
//! refresh cookie): malformed JSON, wrong types, missing and unknown fields, oversized bodies,
//! control characters, unicode look-alikes, injection strings. Always a 4xx with the JSON error
//! body, never a 5xx, and nothing written (no account, no session).

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, plain_client, spawn_app};

/// A body sent as is, with its content type.
async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> Response {
    plain_client()
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Asserts a 4xx with the JSON error body (and `status` and `code` when given); returns the body.
async fn assert_refused(response: Response, what: &str, expected: Option<(u16, &str)>) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{what}: {status}, not a JSON body: {text:?}"));
    assert!(status.is_client_error(), "{what}: {status} {body}");
    assert!(body["error"]["code"].is_string(), "{what}: {body}");
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
    if let Some((want_status, want_code)) = expected {
        assert_eq!(status.as_u16(), want_status, "{what}: {body}");
        assert_eq!(body["error"]["code"], want_code, "{what}: {body}");
    }
    body
}

/// Nothing was written: no account and no session.
async fn assert_nothing_written(app: &TestApp) {
    for table in ["users", "refresh_tokens"] {
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(rows, 0, "rows were written to {table}");
    }
}

/// Bodies that are not the request's JSON, with the status and code each gets, for either route.
fn malformed_bodies(fields: Value) -> Vec<(String, &'static str, Vec<u8>, u16, &'static str)> {
    let json = "application/json";
    let with = |name: &str, value: Value| {
        let mut body = fields.clone();
        body[name] = value;
        body.to_string().into_bytes()
    };
    let first = fields.as_object().unwrap().keys().next().unwrap().clone();
    let mut missing = fields.clone();
    missing.as_object_mut().unwrap().remove("password");
    let mut extra = fields.clone();
    extra["role"] = json!("admin");
    let duplicated = format!(
        "{{\"password\": \"{PASSWORD}\", {}",
        &fields.to_string()[1..]
    );
    vec![
        (
            "truncated JSON".into(),
            json,
            b"{\"email\": ".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "an empty body".into(),
            json,
            Vec::new(),
            400,
            "malformed_json",
        ),
        (
            "not JSON".into(),
            json,
            b"email=a@b.co&password=x".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "invalid UTF-8".into(),
            json,
            b"{\"email\": \"\xff\xfe\"}".to_vec(),
            400,
            "malformed_json",
        ),
        ("an array".into(), json, b"[]".to_vec(), 422, "invalid_body"),
        ("null".into(), json, b"null".to_vec(), 422, "invalid_body"),
        (
            format!("{first} as a number"),
            json,
            with(&first, json!(5)),
            422,
            "invalid_body",
        ),
        (
            format!("{first} as an object"),
            json,
            with(&first, json!({"$ne": ""})),
            422,
            "invalid_body",
        ),
        (
            format!("{first} as null"),
            json,
            with(&first, Value::Null),
            422,
            "invalid_body",
        ),
        (
            format!("{first} as a huge number"),
            json,
            format!("{{\"{first}\": 1e400}}").into_bytes(),
            400,
            "malformed_json",
        ),
        (
            "password missing".into(),
            json,
            missing.to_string().into_bytes(),
            422,
            "invalid_body",
        ),
        (
            "an unknown field (role)".into(),
            json,
            extra.to_string().into_bytes(),
            422,
            "invalid_body",
        ),
        (
            "a duplicated field".into(),
            json,
            duplicated.into_bytes(),
            422,
            "invalid_body",
        ),
        (
            "deeply nested".into(),
            json,
            format!("{}{}", "[".repeat(500), "]".repeat(500)).into_bytes(),
            422,
            "invalid_body",
        ),
        (
            "form-encoded".into(),
            "application/x-www-form-urlencoded",
            b"email=a@b.co".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "text/plain".into(),
            "text/plain",
            fields.to_string().into_bytes(),
            415,
            "unsupported_media_type",
        ),
        (
            "larger than MAX_BODY_BYTES".into(),
            json,
            with(&first, json!("x".repeat(20 * 1024))),
            413,
            "payload_too_large",
        ),
    ]
}

#[tokio::test]
async fn malformed_signup_and_login_bodies_are_a_4xx_with_the_json_body_and_write_nothing() {
    let app = spawn_app().await;
    let signup = json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD});
    let login = json!({"email": "alice@example.com", "password": PASSWORD});

    for (path, fields) in [("/api/auth/signup", signup), ("/api/auth/login", login)] {
        for (what, content_type, body, status, code) in malformed_bodies(fields) {
            let response = post_raw(&app, path, content_type, body).await;
            assert_refused(response, &format!("{path}: {what}"), Some((status, code))).await;
        }
    }

    assert_nothing_written(&app).await;
}

#[tokio::test]
async fn control_characters_look_alikes_and_injection_strings_in_a_signup_are_a_422_naming_the_field()
 {
    let app = spawn_app().await;
    let cases = [
        ("username", "ali\u{0}ce"),
        ("username", "alice\u{1b}[31m"),
        ("username", "bell\u{7}"),
        ("username", "ａｌｉｃｅ"),
        ("username", "ali\u{200b}ce"),
        ("username", "alice\u{202e}"),
        ("username", "alice'; DROP TABLE users; --"),
        ("username", "<script>alert(1)</script>"),
        ("username", &"x".repeat(5000)),
        ("email", "alice\u{0}@example.com"),
        ("email", "alice@exa\u{7}mple.com"),
        ("email", "' OR '1'='1"),
        ("email", "<script>@example.com"),
        ("email", &format!("{}@example.com", "a".repeat(300))),
        ("password", "short"),
        ("password", &"p".repeat(129)),
    ];

    for (field, value) in cases {
        let mut body =
            json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD});
        body[field] = json!(value);
        let what = format!("signup with {field}={value:?}");
        let response = app.post_json("/api/auth/signup", &body).await;
        let body = assert_refused(response, &what, Some((422, "validation_failed"))).await;
        assert!(body["error"]["fields"][field].is_array(), "{what}: {body}");
    }

    assert_nothing_written(&app).await;
}

#[tokio::test]
async fn control_characters_and_injection_strings_in_a_login_are_the_plain_401() {
    let app = spawn_app().await;
    let cases = [
        ("' OR '1'='1", PASSWORD),
        ("alice@example.com' --", PASSWORD),
        ("alice\u{0}@example.com", PASSWORD),
        ("alice@example.com", "pass\u{0}word!"),
        ("\u{1b}[2J@example.com", "\u{7}\u{8}\u{7f}"),
        ("ａｌｉｃｅ@example.com", "𝓅𝒶𝓈𝓈𝓌𝑜𝓇𝒹"),
        (&"a".repeat(8000), PASSWORD),
        ("alice@example.com", &"p".repeat(8000)),
    ];

    for (email, password) in cases {
        let what = format!("login as {email:?} / {password:?}");
        let response = app.login(email, password).await;
        assert_refused(response, &what, Some((401, "invalid_credentials"))).await;
    }

    assert_nothing_written(&app).await;
}

#[tokio::test]
async fn a_malformed_refresh_cookie_is_the_plain_401_and_starts_no_session() {
    let app = spawn_app().await;
    let long = format!("refresh_token={}", "r".repeat(4000));
    let cookies: [&[u8]; 7] = [
        b"refresh_token=",
        b"refresh_token=not-a-token",
        b"refresh_token=' OR 1=1 --",
        b"refresh_token=\xff\xfe",
        b"refresh_token=%00%01",
        b"refresh_token",
        long.as_bytes(),
    ];

    for cookie in cookies {
        let what = format!("refresh with {:?}", String::from_utf8_lossy(cookie));
        let response = plain_client()
            .post(app.url("/api/auth/refresh"))
            .header(
                "cookie",
                reqwest::header::HeaderValue::from_bytes(cookie).unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_ne!(response.status(), StatusCode::OK, "{what}");
        assert_refused(response, &what, Some((401, "invalid_refresh_token"))).await;
    }

    assert_nothing_written(&app).await;
}

#[tokio::test]
async fn a_password_of_the_wrong_type_is_not_echoed_in_the_error_body() {
    let app = spawn_app().await;

    for (path, body) in [
        (
            "/api/auth/signup",
            json!({"username": "alice", "email": "alice@example.com", "password": 73_914_285_601_u64}),
        ),
        (
            "/api/auth/login",
            json!({"email": "alice@example.com", "password": 73_914_285_601_u64}),
        ),
        (
            "/api/auth/login",
            json!({"email": "alice@example.com", "password": 73_914.285_601}),
        ),
    ] {
        let response = app.post_json(path, &body).await;
        let body = assert_refused(response, path, Some((422, "invalid_body"))).await;
        let text = body.to_string();
        assert!(
            !text.contains("73914"),
            "{path}: the password is echoed: {text}"
        );
        assert!(
            text.contains("password"),
            "{path}: the field is not named: {text}"
        );
    }

    assert_nothing_written(&app).await;
}
