//! Test harness: the real application on port 0 against a fresh database (SQLite, or
//! PostgreSQL when the test run selects it), with the demo province loaded.

#![allow(dead_code, reason = "each test binary uses a different part of the harness")]

use motcua_server::{AppState, Config};
use motcua_store::testing::{TestDb, fresh_db};
use reqwest::Client;

/// An API token with the `catalogue:write` scope in the demo province.
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
        motcua_server::first_start(&test_db.db, true).await.expect("demo");
    }
    {
        // An API token with catalogue rights, as an administrator would create it. An
        // "empty" app still knows the province (with an empty catalogue), since API
        // imports need rights in the province they import into.
        let mut tx = test_db.db.begin_write().await.expect("begin");
        if !demo {
            let province = motcua_core::demo::ninh_thuan().province;
            motcua_store::catalogue::upsert_province(&mut tx, &province, time::OffsetDateTime::now_utc())
                .await
                .expect("province");
        }
        motcua_store::accounts::create_api_token(
            &mut tx,
            &motcua_store::accounts::ApiToken {
                id: "test-token".to_owned(),
                name: "Kiểm thử".to_owned(),
                scopes: "catalogue:write".to_owned(),
                province_code: Some("000.00.00.H43".to_owned()),
                created_by: "test".to_owned(),
                created_at: 0,
                revoked_at: None,
                last_used_at: None,
            },
            &motcua_server::auth::secret_hash(ADMIN_TOKEN),
        )
        .await
        .expect("token");
        tx.commit().await.expect("commit");
    }
    let config = Config {
        data_dir: test_db.dir.path().to_owned(),
        max_body_bytes: 256 * 1024,
        max_import_bytes: 32 * 1024 * 1024,
        ..Config::default()
    };
    let state = AppState::new(test_db.db.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let app = motcua_server::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let _ = axum::serve(listener, app).await;
    });
    TestApp {
        base,
        client: Client::new(),
        test_db,
    }
}
