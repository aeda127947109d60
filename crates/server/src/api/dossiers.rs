//! The JSON skin of dossiers: requests read into the commands of [`crate::service::dossiers`]
//! and its answers written as JSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use motcua_core::dossier::Action;
use motcua_core::lifecycle::Delivery;
use motcua_core::money::Vnd;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{ClientIp, Principal};
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiBytes, ApiJson, ApiQuery, parse_json};
use crate::service::dossiers::{
    self as service, ActionRequest, DossierPage, DossierView, History, NewDossier, Tracking, WorkListRequest,
};
use crate::state::AppState;

/// `POST /api/v1/dossiers`: files a dossier. A counter officer's intake is accepted at
/// once (receipt and appointment issued) unless `accept` is false; a citizen's online
/// filing waits for the counter's check (status 1).
#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", request_body = NewDossier,
    responses((status = 201, body = DossierView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewDossier>,
) -> Result<(StatusCode, Json<DossierView>), AppError> {
    Ok((StatusCode::CREATED, Json(service::file(&state, &p, req).await?)))
}

/// `GET /api/v1/dossiers/{code}`: the dossier in full, for its applicant and the staff
/// who may see it. Staff views of personal data are recorded in the audit trail.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 200, body = DossierView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<DossierView>, AppError> {
    Ok(Json(service::get(&state, &p, &code).await?))
}

/// Declares a query struct holding the work-list filters that `GET /api/v1/dossiers` and
/// its export share (one definition of their names and meanings), then the struct's own
/// fields, with `query()` giving the service's [`WorkListQuery`].
macro_rules! work_list_params {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Province; the default province when omitted.
            pub province: Option<String>,
            /// Status codes, comma-separated (e.g. `2,4`).
            pub status: Option<String>,
            /// Only dossiers an agency holds or is responsible for.
            pub agency: Option<String>,
            /// Only dossiers past their appointment with the clock running.
            pub overdue: Option<bool>,
            /// `overdue` (as `overdue=true`); `soon`: the clock running and the appointment
            /// within one working day from now; `wait_over`: waiting for a supplement or a
            /// payment past the time the applicant was given.
            pub due: Option<String>,
            /// `me` for the dossiers the caller holds, `none` for those waiting for assignment,
            /// `me,none` for both, or an account id.
            pub assignee: Option<String>,
            /// Only this procedure.
            pub procedure: Option<String>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $name {
            /// The filters, as the service takes them.
            pub fn query(&self) -> crate::service::dossiers::WorkListQuery<'_> {
                crate::service::dossiers::WorkListQuery {
                    province: self.province.as_deref(),
                    status: self.status.as_deref(),
                    agency: self.agency.as_deref(),
                    overdue: self.overdue,
                    assignee: self.assignee.as_deref(),
                    procedure: self.procedure.as_deref(),
                }
            }
        }
    };
}
pub(crate) use work_list_params;

work_list_params! {
    /// Work list parameters.
    pub struct ListParams {
        /// Page size (default 50, at most 200).
        pub limit: Option<u32>,
        /// Continue after this position (`next_cursor` of the previous page).
        pub cursor: Option<String>,
    }
}

/// `GET /api/v1/dossiers`: a work list, newest first, keyset-paginated. Citizens see
/// their own dossiers; department staff their department's; the centre the province's.
#[utoipa::path(get, path = "/api/v1/dossiers", tag = "dossiers", params(ListParams),
    responses((status = 200, body = DossierPage),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Result<Json<DossierPage>, AppError> {
    let request = WorkListRequest {
        query: q.query(),
        due: q.due.as_deref(),
        cursor: q.cursor.as_deref(),
        limit: q.limit,
    };
    Ok(Json(service::list(&state, &p, request).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MissingBody {
    missing: Vec<String>,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    user: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForwardBody {
    agency: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilesBody {
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentRequestBody {
    amount: Vnd,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentBody {
    amount: Vnd,
    reference: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApologyBody {
    reason: String,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in Vietnam time.
    new_due: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StopBody {
    legal_ground: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FinishBody {
    result_files: Vec<String>,
    #[serde(default)]
    note: String,
    /// For the applicant's document store: the result's kind (a code of the province's
    /// list), number and expiry (`YYYY-MM-DD`).
    #[serde(default)]
    result_kind: Option<String>,
    #[serde(default)]
    result_number: String,
    #[serde(default)]
    result_expires_on: Option<String>,
}

/// What a finish's body says of its result for the document store (the default for other
/// actions, and for a body `action_request` refuses anyway).
fn result_choice(action: Action, body: &[u8]) -> crate::service::documents::ResultChoice {
    if action != Action::Finish {
        return crate::service::documents::ResultChoice::default();
    }
    match serde_json::from_slice::<FinishBody>(body) {
        Ok(b) => crate::service::documents::ResultChoice {
            kind: b.result_kind,
            number: b.result_number,
            expires_on: b.result_expires_on,
        },
        Err(_) => crate::service::documents::ResultChoice::default(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnBody {
    method: Delivery,
    #[serde(default)]
    tracking_number: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

/// The request of `action` read from its JSON body (an empty body is `{}`).
fn action_request(action: Action, body: &[u8]) -> Result<ActionRequest, AppError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    Ok(match action {
        Action::Accept => {
            parse_json::<EmptyBody>(body)?;
            ActionRequest::Accept
        }
        Action::Transfer => {
            parse_json::<EmptyBody>(body)?;
            ActionRequest::Transfer
        }
        Action::Refuse => ActionRequest::Refuse {
            reason: parse_json::<ReasonBody>(body)?.reason,
        },
        Action::Withdraw => ActionRequest::Withdraw {
            reason: parse_json::<ReasonBody>(body)?.reason,
        },
        Action::RequestCompletion => {
            let b: MissingBody = parse_json(body)?;
            ActionRequest::RequestCompletion {
                missing: b.missing,
                reason: b.reason,
            }
        }
        Action::RequestSupplement => {
            let b: MissingBody = parse_json(body)?;
            ActionRequest::RequestSupplement {
                missing: b.missing,
                reason: b.reason,
            }
        }
        Action::Assign => ActionRequest::Assign {
            to: parse_json::<AssignBody>(body)?.user,
        },
        Action::ForwardOut => {
            let b: ForwardBody = parse_json(body)?;
            ActionRequest::ForwardOut {
                agency: b.agency,
                note: b.note,
            }
        }
        Action::ForwardBack => ActionRequest::ForwardBack {
            note: parse_json::<NoteBody>(body)?.note,
        },
        Action::ReceiveSupplement => {
            let b: FilesBody = parse_json(body)?;
            ActionRequest::ReceiveSupplement {
                files: b.files,
                note: b.note,
            }
        }
        Action::RequestPayment => {
            let b: PaymentRequestBody = parse_json(body)?;
            ActionRequest::RequestPayment {
                amount: b.amount,
                note: b.note,
            }
        }
        Action::ConfirmPayment => {
            let b: PaymentBody = parse_json(body)?;
            ActionRequest::ConfirmPayment {
                amount: b.amount,
                reference: b.reference,
            }
        }
        Action::Apologise => {
            let b: ApologyBody = parse_json(body)?;
            ActionRequest::Apologise {
                reason: b.reason,
                new_due: b.new_due,
            }
        }
        Action::Stop => {
            let b: StopBody = parse_json(body)?;
            ActionRequest::Stop {
                legal_ground: b.legal_ground,
                reason: b.reason,
            }
        }
        Action::Finish => {
            let b: FinishBody = parse_json(body)?;
            ActionRequest::Finish {
                result_files: b.result_files,
                note: b.note,
            }
        }
        Action::Return => {
            let b: ReturnBody = parse_json(body)?;
            ActionRequest::Return {
                method: b.method,
                tracking_number: b.tracking_number,
            }
        }
    })
}

/// `POST /api/v1/dossiers/{code}/actions/{action}`: takes an action (accept, refuse,
/// request-completion, transfer, assign, forward, forward-back, request-supplement,
/// receive-supplement, request-payment, confirm-payment, apologise, withdraw, stop,
/// finish, return) with its data as a JSON body (a finish may say its result's
/// `result_kind`, `result_number` and `result_expires_on` for the applicant's store). An action that the status, the role or
/// the agency does not allow is refused with 409 and the reason.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/actions/{action}", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ"), ("action" = String, Path, description = "Tên thao tác")),
    request_body(content = Object, description = "Dữ liệu của thao tác, ví dụ {\"reason\": \"…\"}"),
    responses((status = 200, body = DossierView),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    p: Principal,
    Path((code, action_name)): Path<(String, String)>,
    ApiBytes(body): ApiBytes,
) -> Result<Json<DossierView>, AppError> {
    let action = Action::from_name(&action_name).ok_or_else(|| {
        AppError::NotFound(format!(
            "Không có thao tác «{action_name}». Các thao tác: {}.",
            Action::ALL.map(Action::name).join(", ")
        ))
    })?;
    let request = action_request(action, &body);
    let result = result_choice(action, &body);
    Ok(Json(service::act(&state, &p, &code, action, request, result).await?))
}

/// `GET /api/v1/dossiers/{code}/history`: every action and the processing control sheet.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/history", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 200, body = History), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<History>, AppError> {
    Ok(Json(service::history(&state, &p, &code).await?))
}

/// Tracking parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrackParams {
    /// The tracking secret printed on the receipt.
    pub secret: Option<String>,
}

/// `GET /api/v1/track/{code}?secret=`: public tracking with the second factor printed on
/// the receipt. A wrong or missing secret, or an unknown code, all get the same 404;
/// repeated misses from one address are slowed down with 429.
#[utoipa::path(get, path = "/api/v1/track/{code}", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ"), TrackParams),
    responses((status = 200, body = Tracking), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)), security(()))]
pub async fn track(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<TrackParams>,
) -> Result<Response, AppError> {
    let answer = service::tracking(&state, &ip, &code, q.secret.as_deref().unwrap_or_default()).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        answer.json.clone(),
    )
        .into_response())
}
