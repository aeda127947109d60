//! Test harness: the real application on port 0 against a fresh database (SQLite, or
//! PostgreSQL when the test run selects it), with the demo province loaded.

#![allow(dead_code, reason = "each test binary uses a different part of the harness")]

use motcua_server::{AppState, Config};
use motcua_store::testing::{TestDb, fresh_db};
use reqwest::Client;

/// The administrator token test apps accept.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// A running app.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// HTTP client.
    pub client: Client,
    /// The database, for checks behind the API's back.
    pub test_db: TestDb,
}

impl TestApp {
    /// Full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET and parse JSON, returning status and body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.client.get(self.url(path)).send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("json body"))
    }

    /// Sends JSON with the administrator token.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = self
            .client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("json body"))
    }
}

/// Starts an app with the demo province.
pub async fn spawn_app() -> TestApp {
    spawn(true).await
}

/// Starts an app on an empty database.
pub async fn spawn_empty_app() -> TestApp {
    spawn(false).await
}

async fn spawn(demo: bool) -> TestApp {
    let test_db = fresh_db().await;
    if demo {
        motcua_server::load_demo_if_empty(&test_db.db).await.expect("demo");
    }
    let config = Config {
        admin_token: ADMIN_TOKEN.to_owned(),
        data_dir: test_db.dir.path().to_owned(),
        max_body_bytes: 256 * 1024,
        max_import_bytes: 32 * 1024 * 1024,
        ..Config::default()
    };
    let state = AppState::new(test_db.db.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, motcua_server::router(state)).await;
    });
    TestApp {
        base,
        client: Client::new(),
        test_db,
    }
}
