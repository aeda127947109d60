//! The National Public Service Portal sync (DVCQG): for every dossier change, the
//! dossier as the portal expects it (docs/rules.md §3), POSTed as JSON to `portal_url`.
//!
//! Field names follow the portal's dossier sync documents (`MaHoSo`, `TrangThaiHoSo`,
//! `NgayTiepNhan`, …) *(the exact published schema is unconfirmed; adjust here)*. Dates are
//! `yyyyMMddHHmmss` in Vietnam time. Nothing identifies the applicant beyond the kind of
//! applicant: the portal learns the dossier's progress, not the person.

use base64::Engine;
use motcua_core::calendar::VIETNAM_OFFSET;
use motcua_core::catalogue::{ApplicantKind, FeeKind};
use motcua_core::dossier::{Action, DossierCode};
use motcua_store::outbox::{self, QueuedEvent};
use motcua_store::{Tx, dossiers, files};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{EVENT_ID_HEADER, SendError};
use crate::Config;

/// Sends dossier changes to the portal with the configured credentials.
#[derive(Clone)]
pub struct PortalClient {
    http: reqwest::Client,
    url: String,
    authorization: Option<String>,
}

impl std::fmt::Debug for PortalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials; the URL may hold a key too, so only its host.
        f.debug_struct("PortalClient")
            .field("host", &crate::notify::url_host(&self.url))
            .finish_non_exhaustive()
    }
}

impl PortalClient {
    /// The client the configuration describes; `None` when `portal_url` is empty.
    pub fn from_config(config: &Config, http: reqwest::Client) -> Option<Self> {
        let url = config.portal_url.trim();
        if url.is_empty() {
            return None;
        }
        let authorization = if !config.portal_token.is_empty() {
            Some(format!("Bearer {}", config.portal_token))
        } else if !config.portal_username.is_empty() {
            let pair = format!("{}:{}", config.portal_username, config.portal_password);
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ))
        } else {
            None
        };
        Some(Self {
            http,
            url: url.to_owned(),
            authorization,
        })
    }

    /// POSTs `body`; any 2xx answer is a delivery.
    pub async fn send(&self, event: &QueuedEvent, body: &Value) -> Result<(), SendError> {
        let mut request = self
            .http
            .post(&self.url)
            .header(EVENT_ID_HEADER, event.id.to_string())
            .json(body);
        if let Some(a) = &self.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, a);
        }
        super::post(request, &self.url, "portal ").await
    }
}

/// `yyyyMMddHHmmss` in Vietnam time.
pub fn portal_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(VIETNAM_OFFSET);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A payload date (RFC 3339 or null) as the portal writes it, or null.
fn date_field(v: &Value) -> Value {
    v.as_str()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .map_or(Value::Null, |t| Value::String(portal_time(t)))
}

/// What the portal receives for `event` (with `payload`, its parsed JSON): the dossier's
/// state as of the event (status, dates), its fees, its result documents once it has a
/// result, and its progress up to and including this change.
pub async fn payload(tx: &mut Tx, event: &QueuedEvent, payload: &Value) -> Result<Value, SendError> {
    let code = event
        .dossier_code
        .as_deref()
        .and_then(|c| DossierCode::parse(c).ok())
        .ok_or_else(|| SendError::permanent("the event names no dossier"))?;
    let stored = dossiers::by_code(tx, &code)
        .await?
        .ok_or_else(|| SendError::permanent(format!("dossier {code} not found")))?;
    let d = &stored.dossier;
    // Each change wrote one history row and one event: the first `seen` rows are the
    // history as of this event, whatever happened since.
    let seen = outbox::position_in_dossier(tx, code.as_str(), event.id).await?;
    let history = dossiers::events(tx, stored.id).await?;
    let progress: Vec<Value> = history
        .iter()
        .take(usize::try_from(seen).unwrap_or(usize::MAX))
        .map(|e| {
            let content = Action::from_name(&e.action).map_or("Nộp hồ sơ", Action::label);
            json!({
                "ThoiDiemXuLy": portal_time(e.at),
                "ThaoTac": e.action,
                "NoiDungXuLy": content,
                "TrangThai": e.to_status.code(),
                "DonViXuLy": e.agency,
                "DonViNhan": e.to_agency,
            })
        })
        .collect();
    let status = payload["status_code"].as_u64().unwrap_or(0);
    let fees: Vec<Value> = d
        .fees
        .iter()
        .map(|f| {
            json!({
                "TenPhiLePhi": f.name,
                "LoaiPhiLePhi": match f.kind { FeeKind::Fee => 1, FeeKind::Charge => 2 },
                "MucPhi": f.amount.0,
            })
        })
        .collect();
    let payments: Vec<Value> = d
        .payments
        .iter()
        .map(|(amount, reference)| json!({"SoTien": amount.0, "SoBienLai": reference}))
        .collect();
    // Result documents exist from "result ready" (9) on; earlier events report none.
    let mut results = Vec::new();
    if status >= 9 {
        for id in &d.result_files {
            if let Some(f) = files::get(tx, id).await? {
                results.push(json!({"MaTep": f.id, "TenGiayTo": f.name, "LoaiTep": f.file_type, "MaBam": f.sha256}));
            }
        }
    }
    Ok(json!({
        "MaHoSo": d.code.as_str(),
        "MaTTHC": d.procedure.as_str(),
        "TenTTHC": d.procedure_name,
        "MaLinhVuc": d.field.as_str(),
        "KenhThucHien": payload["channel"],
        "LoaiDoiTuong": match d.applicant.kind { ApplicantKind::Citizen => 1, ApplicantKind::Organisation => 2 },
        "MaCoQuanTiepNhan": d.receiving_agency.as_str(),
        "DonViXuLy": payload["current_agency"],
        "TrangThaiHoSo": status,
        "ThaoTac": payload["action"],
        "ThoiDiemCapNhat": date_field(&payload["at"]),
        "NgayTiepNhan": date_field(&payload["received_at"]),
        "NgayHenTra": date_field(&payload["due_at"]),
        "NgayKetThucXuLy": date_field(&payload["finished_at"]),
        "NgayTra": date_field(&payload["returned_at"]),
        "DanhSachLePhi": fees,
        "DanhSachThanhToan": payments,
        "DanhSachGiayToKetQua": results,
        "QuaTrinhXuLy": progress,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn portal_times_are_vietnam_time_without_separators() {
        assert_eq!(portal_time(datetime!(2026-11-02 01:05:09 UTC)), "20261102080509");
        assert_eq!(date_field(&json!("2026-11-02T08:05:09+07:00")), json!("20261102080509"));
        assert_eq!(date_field(&Value::Null), Value::Null);
    }

    #[test]
    fn credentials_become_one_authorization_header() {
        let http = reqwest::Client::new();
        let off = PortalClient::from_config(&Config::default(), http.clone());
        assert!(off.is_none());
        let basic = Config {
            portal_url: "https://dvc.example.vn/sync".to_owned(),
            portal_username: "h43".to_owned(),
            portal_password: "mật khẩu".to_owned(),
            ..Config::default()
        };
        let c = PortalClient::from_config(&basic, http.clone()).expect("on");
        let encoded = base64::engine::general_purpose::STANDARD.encode("h43:mật khẩu");
        assert_eq!(c.authorization.as_deref(), Some(format!("Basic {encoded}").as_str()));
        assert!(!format!("{c:?}").contains("mật khẩu"));
        let bearer = Config {
            portal_url: "https://dvc.example.vn/sync".to_owned(),
            portal_token: "t0k".to_owned(),
            ..Config::default()
        };
        let c = PortalClient::from_config(&bearer, http).expect("on");
        assert_eq!(c.authorization.as_deref(), Some("Bearer t0k"));
    }
}
