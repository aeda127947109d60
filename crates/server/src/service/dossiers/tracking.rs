//! Public tracking by code and the secret printed on the receipt: no personal data,
//! cached, and misses limited per address and per code.

use std::sync::Arc;

use motcua_core::dossier::{DossierCode, Timeliness};
use motcua_core::lifecycle::Dossier;
use motcua_store::dossiers::{self, EventRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::directory::directory;
use super::history::action_label;
use super::rfc3339;
use crate::auth::same_secret;
use crate::error::AppError;
use crate::state::AppState;
use crate::tracking_cache::Cached;

/// One step as the public sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrackStep {
    /// When.
    pub at: String,
    /// What happened.
    pub label: String,
    /// Where the dossier went (agency name), for hand-overs.
    pub agency: Option<String>,
    /// Status after the step.
    pub status_label: String,
    /// How the step that ended here finished.
    pub result: Option<Timeliness>,
}

/// What public tracking shows: no personal data.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tracking {
    /// Code.
    pub code: String,
    /// Procedure.
    pub procedure_name: String,
    /// National status code.
    pub status_code: u8,
    /// Status label.
    pub status_label: String,
    /// Accepted.
    pub received_at: Option<String>,
    /// Appointment.
    pub due_at: Option<String>,
    /// Result ready.
    pub finished_at: Option<String>,
    /// Result handed over.
    pub returned_at: Option<String>,
    /// Where the dossier is now.
    pub current_agency: String,
    /// The steps so far.
    pub steps: Vec<TrackStep>,
}

/// The public tracking answer for `code` and `secret` asked from `ip`: from the tracking
/// cache when it holds the dossier, else read and kept there. A wrong or missing secret
/// and an unknown code give the same 404 and count as misses of `ip`; past the limit, 429.
/// Shared by the API and the `/tra-cuu` pages, which serve the cached JSON or read it.
pub async fn tracking(state: &AppState, ip: &str, code: &str, secret: &str) -> Result<Arc<Cached>, AppError> {
    let given = code;
    let secret = secret.trim().to_ascii_uppercase();
    let Ok(code) = DossierCode::parse(code) else {
        return Err(tracking_miss(state, ip, given).await);
    };
    let matches = |stored: &str| !secret.is_empty() && same_secret(&secret, stored);
    if let Some(cached) = state.tracking_cache.get(code.as_str()) {
        return if matches(&cached.secret) {
            Ok(cached)
        } else {
            Err(tracking_miss(state, ip, given).await)
        };
    }
    let epoch = state.tracking_cache.epoch(code.as_str());
    let mut tx = state.db.begin_read().await?;
    let stored = dossiers::by_code(&mut tx, &code).await?;
    let Some(stored) = stored.filter(|s| matches(&s.dossier.tracking_secret)) else {
        drop(tx);
        return Err(tracking_miss(state, ip, given).await);
    };
    let events = dossiers::events(&mut tx, stored.id).await?;
    drop(tx);
    let view = tracking_view(state, &stored.dossier, events).await?;
    let json = serde_json::to_vec(&view).map_err(|e| AppError::Internal(format!("tracking view: {e}")))?;
    let cached = Arc::new(Cached {
        secret: stored.dossier.tracking_secret.as_str().into(),
        json: json.into(),
    });
    state
        .tracking_cache
        .put_unless_changed(code.as_str(), Arc::clone(&cached), epoch);
    Ok(cached)
}

/// The answer to a failed look-up by code and secret (tracking, a rating link) of `code`
/// from `ip`: 404, the same for a wrong code and a wrong secret; 429 with the wait once the
/// address, or the code, has used up `tracking_rate_per_minute` misses. Only misses count,
/// and each budget counts apart: a correct code and secret are never refused, so neither
/// a neighbour behind the same proxy nor someone guessing at one citizen's code can lock
/// others out. Both budgets are the deployment's (`limits::Budget`): several nodes grant one
/// budget between them, and an IPv6 client is counted by its /64.
pub async fn tracking_miss(state: &AppState, ip: &str, code: &str) -> AppError {
    // The fold of what was asked, bounded: a made-up "code" can be any length.
    let code_key: String = motcua_core::text::fold(code).chars().take(64).collect();
    let now = crate::now_ms();
    let by_address = state.tracking_misses_by_address.count(&state.db, ip, now).await;
    let by_code = state.tracking_misses_by_code.count(&state.db, &code_key, now).await;
    match (by_address, by_code) {
        (Err(e), _) | (_, Err(e)) => e.into(),
        (Ok(Ok(())), Ok(Ok(()))) => {
            AppError::NotFound("Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập.".to_owned())
        }
        (Ok(Err(a)), Ok(Err(b))) => too_many_misses(a.max(b)),
        (Ok(Err(wait)), _) | (_, Ok(Err(wait))) => too_many_misses(wait),
    }
}

fn too_many_misses(wait: std::time::Duration) -> AppError {
    AppError::too_many(
        format!(
            "Tra cứu sai quá nhiều lần. Vui lòng kiểm tra mã hồ sơ và mã tra cứu, thử lại sau {} giây.",
            wait.as_secs().max(1)
        ),
        wait,
    )
}

/// What the public sees of dossier `d` with its history `events`.
async fn tracking_view(state: &AppState, d: &Dossier, events: Vec<EventRecord>) -> Result<Tracking, AppError> {
    let dir = directory(state, &d.province).await?;
    let rules = crate::service::rules::now(state).await?;
    Ok(Tracking {
        code: d.code.as_str().to_owned(),
        procedure_name: d.procedure_name.clone(),
        status_code: d.status.code(),
        status_label: rules.label(d.status),
        received_at: d.received_at.map(rfc3339),
        due_at: d.due_at.map(rfc3339),
        finished_at: d.finished_at.map(rfc3339),
        returned_at: d.returned_at.map(rfc3339),
        current_agency: dir.name(d.current_agency.as_str()),
        steps: events
            .into_iter()
            .map(|e| TrackStep {
                at: rfc3339(e.at),
                label: action_label(&e.action),
                agency: e.to_agency.as_deref().map(|a| dir.name(a)),
                status_label: rules.label(e.to_status),
                result: e.closed_step,
            })
            .collect(),
    })
}
