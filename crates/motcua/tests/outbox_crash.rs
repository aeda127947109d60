//! An event committed before `motcua serve` is killed with SIGKILL, while its delivery to
//! the national portal is in flight, is delivered by the next start: the dead process's
//! lease expires and the new one sends it again (at least once), before later events of
//! the same dossier (in order). The portal is a plain local HTTP receiver.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Portal, login, start};
use motcua_store::testing::{fresh_postgres_url, postgres_selected};
use serde_json::{Value, json};

#[tokio::test]
async fn an_event_in_flight_when_the_server_is_killed_is_delivered_after_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let url = if postgres_selected() {
        fresh_postgres_url().await
    } else {
        String::new()
    };
    let portal = Portal::start();
    *portal.hold.lock().expect("lock") = true;
    let mut server = start(dir.path(), &url, &portal.url);

    // File a dossier at the counter: two changes (filed, accepted), committed.
    let client = reqwest::Client::new();
    let (cookie, csrf) = login(&client, &server.base, "tiepnhan").await;
    let content: Value = client
        .get(format!("{}/api/v1/procedures/1.900141", server.base))
        .send()
        .await
        .expect("procedure")
        .json()
        .await
        .expect("json");
    let documents: Vec<Value> = content["content"]["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .enumerate()
        .filter(|(_, d)| d["required"] == true)
        .map(|(i, d)| json!({"index": i, "originals": d["originals"], "copies": d["copies"]}))
        .collect();
    let r = client
        .post(format!("{}/api/v1/dossiers", server.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({
            "procedure": "1.900141",
            "applicant": {"kind": "citizen", "name": "Trần Thị Bình", "id_number": "058190000456"},
            "documents": documents,
        }))
        .send()
        .await
        .expect("file");
    assert_eq!(r.status().as_u16(), 201);
    let filed: Value = r.json().await.expect("json");
    let code = filed["code"].as_str().expect("code").to_owned();

    // The worker is sending the first change; the portal holds it. Kill -9 now: the
    // send never completes and nothing records its outcome.
    portal.wait_for(1);
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reap");
    assert_eq!(portal.bodies().len(), 1, "the second change waits behind the first");

    // Restart: once the dead process's lease expires, the first change is sent again,
    // then the second.
    *portal.hold.lock().expect("lock") = false;
    let mut server = start(dir.path(), &url, &portal.url);
    let bodies = portal.wait_for(3);
    std::thread::sleep(Duration::from_millis(500));
    let bodies = if bodies.len() > 3 { portal.bodies() } else { bodies };
    let actions: Vec<&str> = bodies.iter().map(|b| b["ThaoTac"].as_str().expect("action")).collect();
    assert_eq!(actions, ["file", "file", "accept"]);
    assert!(bodies.iter().all(|b| b["MaHoSo"] == json!(code)));
    assert_eq!(bodies[2]["TrangThaiHoSo"], 2);

    // The database agrees: both delivered, the first after two attempts.
    let config = motcua_store::DbConfig {
        url: Some(url.clone()).filter(|u| !u.is_empty()),
        sqlite_path: dir.path().join("motcua.db"),
        max_connections: 2,
        busy_timeout: Duration::from_secs(10),
    };
    let db = motcua_store::Db::connect(&config).await.expect("open");
    let mut tx = db.begin_read().await.expect("tx");
    let delivered = motcua_store::outbox::deliveries(
        &mut tx,
        "000.00.00.H43",
        motcua_store::outbox::StateFilter::Delivered,
        None,
        10,
    )
    .await
    .expect("deliveries");
    drop(tx);
    db.close().await;
    let attempts: Vec<(String, i64)> = delivered.iter().rev().map(|d| (d.kind.clone(), d.attempts)).collect();
    assert_eq!(
        attempts,
        [("dossier.file".to_owned(), 2), ("dossier.accept".to_owned(), 1)]
    );

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = server.child.wait().expect("wait");
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
}
