//! Citizen self-registration, confirmed by a one-time code sent by email or SMS.
//!
//! `register` checks the form and sends a 6-digit code, but creates no account: an
//! address or phone number becomes a login name only once its owner proves they receive
//! messages there, by `confirm`ing the code. The pending registration keeps the password
//! as an argon2id hash and the code as a salted SHA-256. A code is valid for
//! [`CODE_VALID_MINUTES`] minutes and [`MAX_ATTEMPTS`] wrong entries; `resend` replaces it.
//!
//! Guessing is bounded three ways: wrong entries per code, codes per registration and
//! codes per destination per hour and day (so nobody can flood a stranger's phone, nor
//! guess their way to an account on someone else's address), and requests per client
//! address per minute.

use axum::http::StatusCode;
use motcua_core::access::{Grant, Role, mask};
use motcua_core::codes::ProvinceCode;
use motcua_store::accounts::{self, NewUser, UserKind};
use motcua_store::otp::{self, Registration};
use motcua_store::{StoreError, catalogue};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Actor, Event};
use crate::auth::{check_password_policy, hash_password, random_id, random_token, same_secret, secret_hash};
use crate::error::AppError;
use crate::notify::{self, Email, Mailer, SmsSender};
use crate::service::accounts::{SignedIn, start_session};
use crate::state::AppState;

/// Minutes a code stays valid after it is sent.
pub const CODE_VALID_MINUTES: i64 = 10;
/// Wrong entries a code tolerates; the last one uses it up.
pub const MAX_ATTEMPTS: i64 = 5;
/// Codes one registration may be sent (the first and the resends).
pub const MAX_SENDS: i64 = 5;
/// Seconds between two codes for the same registration.
pub const RESEND_AFTER_SECONDS: i64 = 60;
/// Codes one email address or phone number may receive per hour, whoever asks.
pub const MAX_SENDS_PER_DESTINATION_HOUR: i64 = 5;
/// Codes one email address or phone number may receive per day, whoever asks.
pub const MAX_SENDS_PER_DESTINATION_DAY: i64 = 10;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Registration form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Full name, as it should appear on dossiers.
    pub display_name: String,
    /// Email address; the code goes there when given. At least one of email and phone.
    #[serde(default)]
    pub email: Option<String>,
    /// Vietnamese mobile number (`0912345678` or `+84912345678`); the code goes there by
    /// SMS when no email is given.
    #[serde(default)]
    pub phone: Option<String>,
    /// Password (at least 10 characters).
    pub password: String,
    /// Province where the account is registered; the default province when omitted.
    #[serde(default)]
    pub province: Option<String>,
}

/// Confirmation form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The id `register` returned.
    pub registration_id: String,
    /// The 6-digit code received.
    pub code: String,
}

/// Resend form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendRequest {
    /// The id `register` returned.
    pub registration_id: String,
}

/// How a code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CodeChannel {
    /// By email.
    Email,
    /// By SMS.
    Sms,
}

impl CodeChannel {
    fn as_str(self) -> &'static str {
        match self {
            CodeChannel::Email => "email",
            CodeChannel::Sms => "sms",
        }
    }

    fn parse(s: &str) -> Option<CodeChannel> {
        match s {
            "email" => Some(CodeChannel::Email),
            "sms" => Some(CodeChannel::Sms),
            _ => None,
        }
    }
}

/// A code was sent. The code itself is never in an answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeSent {
    /// Send it back with the code to `confirm`, or to `resend`.
    pub registration_id: String,
    /// Where the code went.
    pub channel: CodeChannel,
    /// The address or number it went to, masked (`n******a@example.vn`, `0********8`).
    pub destination: String,
    /// Seconds the code stays valid.
    pub expires_in_seconds: i64,
    /// Seconds before another code may be asked for.
    pub resend_after_seconds: i64,
}

/// What a registration request can fail with: the API's usual errors, plus answers whose
/// status `AppError` has no variant for (410) or that need a specific machine code.
#[derive(Debug)]
pub enum CitizenError {
    /// One of the API's usual errors.
    App(AppError),
    /// A status and machine code of this module.
    Coded {
        /// HTTP status.
        status: StatusCode,
        /// Stable machine code.
        code: &'static str,
        /// Vietnamese message.
        message: String,
        /// The field at fault, when there is one.
        field: Option<&'static str>,
    },
}

impl CitizenError {
    pub(crate) fn coded(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        CitizenError::Coded {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }
}

impl From<AppError> for CitizenError {
    fn from(e: AppError) -> Self {
        CitizenError::App(e)
    }
}

impl From<StoreError> for CitizenError {
    fn from(e: StoreError) -> Self {
        CitizenError::App(e.into())
    }
}

pub type Result<T, E = CitizenError> = std::result::Result<T, E>;

async fn check_rate(state: &AppState, ip: &str) -> Result<()> {
    // The same per-minute budget as logins, in a limiter of its own: registering must not
    // use up a citizen's login attempts, nor the reverse.
    let counted = state.otp_limiter.count(&state.db, ip, crate::now_ms()).await;
    counted.map_err(AppError::from)?.map_err(|wait| {
        AppError::too_many(
            format!(
                "Quá nhiều yêu cầu từ địa chỉ này. Vui lòng thử lại sau {} giây.",
                wait.as_secs().max(1)
            ),
            wait,
        )
        .into()
    })
}

/// Registers from `ip`: checks the form, sends a one-time code and stores the pending
/// registration (audited); the account is created by [`confirm`].
pub async fn register(state: &AppState, ip: &str, body: &RegisterRequest) -> Result<CodeSent> {
    let state = state.clone();
    let ip = ip.to_owned();
    check_rate(&state, &ip).await?;
    let form = RegistrationForm::parse(body)?;
    let channel = choose_channel(&state, form.email.is_some(), form.phone.is_some())?;
    let province = state.province(body.province.as_deref()).await?;
    let now = crate::now_ms();
    {
        let mut tx = state.db.begin_read().await?;
        if catalogue::province(&mut tx, &province).await?.is_none() {
            return Err(AppError::NotFound(format!("Không tìm thấy tỉnh {province}.")).into());
        }
        if accounts::user_by_username(&mut tx, &form.username).await?.is_some() {
            return Err(username_taken(channel));
        }
        check_destination_budget(&mut tx, &form.username, now).await?;
    }
    let password_hash = hash_password(&state, &body.password).await?;
    let id = random_id();
    let code = new_code();
    let salt = random_token(16);
    let registration = Registration {
        id: id.clone(),
        province_code: province.as_str().to_owned(),
        username: form.username,
        display_name: form.display_name,
        email: form.email.unwrap_or_default(),
        phone: form.phone.unwrap_or_default(),
        password_hash,
        channel: channel.as_str().to_owned(),
        code_hash: code_hash(&salt, &id, &code),
        code_salt: salt,
        attempts: 0,
        sends: 1,
        sent_at: now,
        expires_at: now + CODE_VALID_MINUTES * MINUTE_MS,
        confirmed: false,
        user_id: None,
        ip: ip.clone(),
        created_at: now,
    };
    // Send before storing: holding the (single, on SQLite) write transaction across an
    // SMTP or HTTP exchange would stall every other write. A code sent for a row that then
    // fails to store is harmless: it confirms nothing.
    deliver(&state, &registration, channel, &code).await?;
    let destination = destination(&registration, channel);
    let mut tx = state.db.begin_write().await?;
    otp::purge_expired(&mut tx, now - DAY_MS).await?;
    otp::create(&mut tx, &registration).await?;
    audit::record(
        &mut tx,
        &anonymous(&ip),
        Event {
            action: "citizen.register_request",
            object_type: "citizen_registration",
            object_id: &id,
            province: Some(province.as_str()),
            before: None,
            after: Some(serde_json::json!({ "channel": channel.as_str(), "destination": destination })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(CodeSent {
        registration_id: id,
        channel,
        destination,
        expires_in_seconds: CODE_VALID_MINUTES * 60,
        resend_after_seconds: RESEND_AFTER_SECONDS,
    })
}

/// Checks the code of a pending registration from `ip` (browser `user_agent`), creates the
/// citizen account and signs it in, as a login does.
pub async fn confirm(state: &AppState, ip: &str, user_agent: &str, body: &ConfirmRequest) -> Result<SignedIn> {
    check_rate(state, ip).await?;
    let code = body.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CitizenError::Coded {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_code",
            message: "Mã xác nhận gồm đúng 6 chữ số.".to_owned(),
            field: Some("code"),
        });
    }
    let now = crate::now_ms();
    let mut tx = state.db.begin_write().await?;
    let reg = open_registration(&mut tx, &body.registration_id).await?;
    if reg.attempts >= MAX_ATTEMPTS {
        return Err(too_many_attempts());
    }
    if reg.expires_at <= now {
        return Err(CitizenError::coded(
            StatusCode::GONE,
            "code_expired",
            "Mã xác nhận đã hết hạn. Hãy yêu cầu gửi lại mã mới.",
        ));
    }
    let province =
        ProvinceCode::parse(&reg.province_code).map_err(|e| AppError::Internal(format!("stored province: {e}")))?;
    if !same_secret(&code_hash(&reg.code_salt, &reg.id, code), &reg.code_hash) {
        // Counted atomically: concurrent guesses cannot slip past the limit together.
        let Some(attempts) = otp::record_wrong_code(&mut tx, &reg.id, MAX_ATTEMPTS).await? else {
            return Err(too_many_attempts());
        };
        audit::record(
            &mut tx,
            &anonymous(ip),
            Event {
                action: "citizen.confirm_failed",
                object_type: "citizen_registration",
                object_id: &reg.id,
                province: Some(province.as_str()),
                before: None,
                after: Some(serde_json::json!({ "attempts": attempts })),
            },
        )
        .await?;
        tx.commit().await?;
        let left = MAX_ATTEMPTS - attempts;
        if left <= 0 {
            return Err(too_many_attempts());
        }
        return Err(CitizenError::Coded {
            status: StatusCode::BAD_REQUEST,
            code: "wrong_code",
            message: format!("Mã xác nhận không đúng. Bạn còn {left} lần thử."),
            field: Some("code"),
        });
    }
    let user_id = random_id();
    // The row is claimed by one statement, so of two concurrent confirmations one wins
    // and the other finds the registration used.
    if !otp::mark_confirmed(&mut tx, &reg.id, &user_id, MAX_ATTEMPTS, now).await? {
        return Err(already_used());
    }
    let created = accounts::create_user(
        &mut tx,
        &NewUser {
            id: &user_id,
            province: None,
            kind: UserKind::Citizen,
            username: &reg.username,
            display_name: &reg.display_name,
            email: &reg.email,
            phone: &reg.phone,
            citizen_id: "",
            password_hash: &reg.password_hash,
            must_change_password: false,
        },
        motcua_store::from_millis(now),
    )
    .await;
    let user = match created {
        Ok(user) => user,
        // Someone registered the same address or number between `register` and now.
        Err(StoreError::Conflict(_)) => {
            return Err(username_taken(
                CodeChannel::parse(&reg.channel).unwrap_or(CodeChannel::Email),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let grant = Grant {
        role: Role::Citizen,
        agency: province.as_agency().clone(),
        province: province.clone(),
    };
    accounts::add_grant(&mut tx, &user.id, &grant).await?;
    let session = start_session(state, &mut tx, &user.id, ip, user_agent, now).await?;
    audit::record(
        &mut tx,
        &Actor {
            id: user.id.clone(),
            name: format!("{} ({})", user.display_name, user.username),
            ip,
        },
        Event {
            action: "citizen.register",
            object_type: "user",
            object_id: &user.id,
            province: Some(province.as_str()),
            before: None,
            after: Some(serde_json::json!({
                "username": user.username,
                "display_name": user.display_name,
                "registration_id": reg.id,
                "channel": reg.channel,
                "grants": [grant],
            })),
        },
    )
    .await?;
    let grants = accounts::grants(&mut tx, &user.id).await?;
    tx.commit().await?;
    tracing::info!(user = %user.id, "citizen account registered");
    Ok(SignedIn { user, grants, session })
}

/// Sends a new code for a pending registration; the old code stops working and the
/// attempts start again.
pub async fn resend(state: &AppState, ip: &str, body: &ResendRequest) -> Result<CodeSent> {
    check_rate(state, ip).await?;
    let now = crate::now_ms();
    let reg = {
        let mut tx = state.db.begin_read().await?;
        let reg = open_registration(&mut tx, &body.registration_id).await?;
        if reg.sends >= MAX_SENDS {
            return Err(CitizenError::coded(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_codes",
                format!("Đã gửi mã {MAX_SENDS} lần cho yêu cầu đăng ký này. Vui lòng đăng ký lại từ đầu sau ít phút."),
            ));
        }
        let wait_s = (reg.sent_at + RESEND_AFTER_SECONDS * 1000 - now + 999) / 1000;
        if wait_s > 0 {
            return Err(CitizenError::coded(
                StatusCode::TOO_MANY_REQUESTS,
                "resend_too_soon",
                format!("Vui lòng chờ {wait_s} giây nữa rồi hãy yêu cầu gửi lại mã."),
            ));
        }
        check_destination_budget(&mut tx, &reg.username, now).await?;
        reg
    };
    let channel = CodeChannel::parse(&reg.channel)
        .ok_or_else(|| AppError::Internal(format!("stored channel «{}» is unknown", reg.channel)))?;
    // The channel chosen at registration must still be available (configuration may change).
    let available = choose_channel(state, channel == CodeChannel::Email, channel == CodeChannel::Sms)?;
    let code = new_code();
    let salt = random_token(16);
    let hash = code_hash(&salt, &reg.id, &code);
    deliver(state, &reg, available, &code).await?;
    let mut tx = state.db.begin_write().await?;
    let expires_at = now + CODE_VALID_MINUTES * MINUTE_MS;
    if !otp::replace_code(&mut tx, &reg.id, &salt, &hash, now, expires_at).await? {
        return Err(already_used());
    }
    let destination = destination(&reg, available);
    audit::record(
        &mut tx,
        &anonymous(ip),
        Event {
            action: "citizen.code_resend",
            object_type: "citizen_registration",
            object_id: &reg.id,
            province: Some(&reg.province_code),
            before: None,
            after: Some(serde_json::json!({ "channel": available.as_str(), "destination": destination, "sends": reg.sends + 1 })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(CodeSent {
        registration_id: reg.id,
        channel: available,
        destination,
        expires_in_seconds: CODE_VALID_MINUTES * 60,
        resend_after_seconds: RESEND_AFTER_SECONDS,
    })
}

/// A registration that exists and is not yet confirmed.
async fn open_registration(tx: &mut motcua_store::Tx, id: &str) -> Result<Registration> {
    let reg = otp::get(tx, id).await?.ok_or_else(|| {
        AppError::NotFound(
            "Không tìm thấy yêu cầu đăng ký này, hoặc yêu cầu đã quá hạn. Vui lòng đăng ký lại.".to_owned(),
        )
    })?;
    if reg.confirmed {
        return Err(already_used());
    }
    Ok(reg)
}

fn already_used() -> CitizenError {
    CitizenError::coded(
        StatusCode::GONE,
        "registration_used",
        "Yêu cầu đăng ký này đã được xác nhận và tài khoản đã được tạo. Hãy đăng nhập.",
    )
}

fn too_many_attempts() -> CitizenError {
    CitizenError::coded(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("Bạn đã nhập sai mã xác nhận {MAX_ATTEMPTS} lần. Hãy yêu cầu gửi lại mã mới."),
    )
}

fn username_taken(channel: CodeChannel) -> CitizenError {
    let what = match channel {
        CodeChannel::Email => "Địa chỉ email này",
        CodeChannel::Sms => "Số điện thoại này",
    };
    CitizenError::coded(
        StatusCode::CONFLICT,
        "username_taken",
        format!(
            "{what} đã được dùng cho một tài khoản. Hãy đăng nhập, hoặc liên hệ Trung tâm Phục vụ hành chính công nếu bạn quên mật khẩu."
        ),
    )
}

fn anonymous(ip: &str) -> Actor<'_> {
    Actor {
        id: "anonymous".to_owned(),
        name: "Người đăng ký (chưa có tài khoản)".to_owned(),
        ip,
    }
}

/// Refuses when the destination has been sent too many codes lately, whoever asked.
async fn check_destination_budget(tx: &mut motcua_store::Tx, username: &str, now: i64) -> Result<()> {
    let hour = otp::sends_to(tx, username, now - HOUR_MS).await?;
    let day = otp::sends_to(tx, username, now - DAY_MS).await?;
    if hour >= MAX_SENDS_PER_DESTINATION_HOUR || day >= MAX_SENDS_PER_DESTINATION_DAY {
        return Err(CitizenError::coded(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_codes",
            "Địa chỉ hoặc số điện thoại này đã nhận quá nhiều mã xác nhận. Vui lòng thử lại sau.",
        ));
    }
    Ok(())
}

/// The channel a code will travel by: email when the citizen gave one and email is
/// configured, else SMS likewise. With neither, 503: a registration that could never be
/// confirmed must not be accepted. `dev_log_codes` lets development work without either.
fn choose_channel(state: &AppState, has_email: bool, has_phone: bool) -> Result<CodeChannel> {
    let config = &state.config;
    let email_on = !config.smtp_host.trim().is_empty();
    let sms_on = !config.sms_url.trim().is_empty();
    if has_email && email_on {
        return Ok(CodeChannel::Email);
    }
    if has_phone && sms_on {
        return Ok(CodeChannel::Sms);
    }
    if config.dev_log_codes {
        return Ok(if has_email {
            CodeChannel::Email
        } else {
            CodeChannel::Sms
        });
    }
    Err(channel_unavailable(config))
}

/// 503: the code cannot be sent by any channel the citizen gave.
fn channel_unavailable(config: &crate::config::Config) -> CitizenError {
    let email_on = !config.smtp_host.trim().is_empty();
    let sms_on = !config.sms_url.trim().is_empty();
    let message = match (email_on, sms_on) {
        (false, false) => {
            "Hệ thống chưa được cấu hình để gửi mã xác nhận qua email hoặc tin nhắn, nên chưa thể đăng ký tài khoản trực tuyến. Vui lòng thử lại sau hoặc liên hệ Trung tâm Phục vụ hành chính công."
        }
        (true, _) => "Hệ thống hiện chỉ gửi được mã xác nhận qua email. Vui lòng đăng ký bằng địa chỉ email.",
        (false, true) => {
            "Hệ thống hiện chỉ gửi được mã xác nhận qua tin nhắn SMS. Vui lòng đăng ký bằng số điện thoại di động."
        }
    };
    CitizenError::coded(StatusCode::SERVICE_UNAVAILABLE, "channel_unavailable", message)
}

fn destination(reg: &Registration, channel: CodeChannel) -> String {
    match channel {
        CodeChannel::Email => notify::mask_email(&reg.email),
        CodeChannel::Sms => mask(&reg.phone),
    }
}

/// Sends the code; with `dev_log_codes`, also writes it to the log (and only then).
async fn deliver(state: &AppState, reg: &Registration, channel: CodeChannel, code: &str) -> Result<()> {
    let config = &state.config;
    let masked = destination(reg, channel);
    if config.dev_log_codes {
        tracing::warn!(
            registration = %reg.id,
            destination = %masked,
            code = %code,
            "dev_log_codes is on: one-time code written to the log (never enable in production)"
        );
    }
    let failed = |e: notify::NotifyError| {
        tracing::error!(registration = %reg.id, destination = %masked, error = %e, "one-time code not sent");
        CitizenError::coded(
            StatusCode::SERVICE_UNAVAILABLE,
            "delivery_failed",
            match channel {
                CodeChannel::Email => {
                    "Chưa gửi được mã xác nhận đến địa chỉ email của bạn. Vui lòng kiểm tra địa chỉ và thử lại sau ít phút."
                }
                CodeChannel::Sms => {
                    "Chưa gửi được tin nhắn chứa mã xác nhận đến số điện thoại của bạn. Vui lòng thử lại sau ít phút."
                }
            },
        )
    };
    match channel {
        CodeChannel::Email => match Mailer::from_config(config).map_err(failed)? {
            Some(mailer) => mailer.send(&code_email(state, reg, code)).await.map_err(failed),
            None if config.dev_log_codes => Ok(()),
            None => Err(channel_unavailable(config)),
        },
        CodeChannel::Sms => match SmsSender::from_config(config).map_err(failed)? {
            Some(sender) => sender.send(&reg.phone, &code_sms(code)).await.map_err(failed),
            None if config.dev_log_codes => Ok(()),
            None => Err(channel_unavailable(config)),
        },
    }
}

fn code_sms(code: &str) -> String {
    // Short enough for one Unicode SMS segment (70 characters).
    format!("Mã xác nhận đăng ký: {code} (hiệu lực {CODE_VALID_MINUTES} phút). Không chia sẻ mã này.")
}

fn code_email(state: &AppState, reg: &Registration, code: &str) -> Email {
    let name = &reg.display_name;
    let url = state.config.public_base();
    let text = format!(
        "Xin chào {name},\n\n\
         Mã xác nhận đăng ký tài khoản dịch vụ công của bạn là: {code}\n\n\
         Mã có hiệu lực trong {CODE_VALID_MINUTES} phút. Không chia sẻ mã này với bất kỳ ai, kể cả người tự xưng là cán bộ.\n\
         Nếu bạn không yêu cầu đăng ký, hãy bỏ qua thư này; sẽ không có tài khoản nào được tạo.\n\n\
         Hệ thống một cửa điện tử\n{url}\n"
    );
    let (name_html, url_html) = (notify::html_escape(name), notify::html_escape(&url));
    let html = format!(
        "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Mã xác nhận đăng ký</title></head>\
         <body style=\"font-family: sans-serif; line-height: 1.5\">\
         <p>Xin chào {name_html},</p>\
         <p>Mã xác nhận đăng ký tài khoản dịch vụ công của bạn là:</p>\
         <p style=\"font-size: 1.6em; font-weight: bold; letter-spacing: 0.2em\">{code}</p>\
         <p>Mã có hiệu lực trong {CODE_VALID_MINUTES} phút. Không chia sẻ mã này với bất kỳ ai, kể cả người tự xưng là cán bộ.</p>\
         <p>Nếu bạn không yêu cầu đăng ký, hãy bỏ qua thư này; sẽ không có tài khoản nào được tạo.</p>\
         <p>Hệ thống một cửa điện tử<br><a href=\"{url_html}\">{url_html}</a></p></body></html>"
    );
    Email {
        to: reg.email.clone(),
        subject: "Mã xác nhận đăng ký tài khoản dịch vụ công".to_owned(),
        text,
        html,
    }
}

/// A uniformly random 6-digit code.
fn new_code() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    // Rejection sampling: 4_294_000_000 is the largest multiple of 10^6 below 2^32, so
    // every code is equally likely.
    loop {
        let n = OsRng.next_u32();
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// SHA-256 over the row's salt, its id and the code. A 6-digit code cannot resist a
/// search by whoever reads the database; the hash keeps codes out of plain sight (backups,
/// support queries), and the attempt limit and short validity are what protect them.
fn code_hash(salt: &str, id: &str, code: &str) -> String {
    secret_hash(&format!("{salt}:{id}:{code}"))
}

/// A registration form, checked and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RegistrationForm {
    display_name: String,
    email: Option<String>,
    phone: Option<String>,
    username: String,
}

impl RegistrationForm {
    fn parse(body: &RegisterRequest) -> Result<Self, AppError> {
        let display_name = motcua_core::text::nfc(&body.display_name);
        let n = display_name.chars().count();
        if !(2..=100).contains(&n) || display_name.chars().any(char::is_control) {
            return Err(AppError::bad(
                "invalid_name",
                "display_name",
                "Họ và tên phải có từ 2 đến 100 ký tự.",
            ));
        }
        let email = match body.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => Some(normalize_email(e).ok_or_else(|| {
                AppError::bad(
                    "invalid_email",
                    "email",
                    "Địa chỉ email không hợp lệ (ví dụ đúng: nguyenvana@example.vn).",
                )
            })?),
            None => None,
        };
        let phone = match body.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(normalize_phone(p).ok_or_else(|| {
                AppError::bad(
                    "invalid_phone",
                    "phone",
                    "Số điện thoại di động không hợp lệ: cần 10 chữ số bắt đầu bằng 03, 05, 07, 08 hoặc 09 (ví dụ 0912345678), hoặc dạng +84912345678.",
                )
            })?),
            None => None,
        };
        let username = match (&email, &phone) {
            (Some(e), _) => e.clone(),
            (None, Some(p)) => p.clone(),
            (None, None) => {
                return Err(AppError::bad(
                    "contact_required",
                    "email",
                    "Vui lòng nhập địa chỉ email hoặc số điện thoại di động để nhận mã xác nhận.",
                ));
            }
        };
        check_password_policy(&body.password, &username).map_err(|e| match e {
            // The shared policy names the password-change form's field.
            AppError::BadRequest { code, message, .. } => AppError::BadRequest {
                code,
                message,
                field: Some("password".to_owned()),
            },
            other => other,
        })?;
        if phone.as_deref().is_some_and(|p| body.password.contains(p)) {
            return Err(AppError::bad(
                "weak_password",
                "password",
                "Mật khẩu không được chứa số điện thoại.",
            ));
        }
        Ok(RegistrationForm {
            display_name,
            email,
            phone,
            username,
        })
    }
}

/// An email address lowercased, if it has the usual shape: ASCII, one `@`, a mailbox of
/// ordinary characters and a domain of at least two labels ending in letters.
pub(crate) fn normalize_email(input: &str) -> Option<String> {
    let email = input.trim().to_ascii_lowercase();
    if email.len() > 254 || !email.is_ascii() {
        return None;
    }
    let (local, domain) = email.split_once('@')?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    (local_ok && domain_ok).then_some(email)
}

/// A Vietnamese mobile number as `0XXXXXXXXX`, from `0XXXXXXXXX` or `+84XXXXXXXXX`
/// (spaces, dots, dashes and parentheses ignored). Mobile numbers start with 03, 05, 07,
/// 08 or 09 since the 2018 renumbering; codes go by SMS, so landlines are refused.
pub(crate) fn normalize_phone(input: &str) -> Option<String> {
    let compact: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let national = if let Some(rest) = compact.strip_prefix("+84") {
        // `+84 0912…` is a common way of writing it too.
        format!("0{}", rest.strip_prefix('0').unwrap_or(rest))
    } else {
        compact
    };
    let bytes = national.as_bytes();
    let ok = bytes.len() == 10
        && bytes.iter().all(u8::is_ascii_digit)
        && bytes[0] == b'0'
        && matches!(bytes[1], b'3' | b'5' | b'7' | b'8' | b'9');
    ok.then_some(national)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise_to_the_national_form() {
        for ok in [
            "0912345678",
            "+84912345678",
            "+84 091 234 5678",
            "091.234.5678",
            "(039) 123-4567",
        ] {
            assert!(normalize_phone(ok).is_some(), "{ok}");
        }
        assert_eq!(normalize_phone("+84 912 345 678").as_deref(), Some("0912345678"));
        for bad in [
            "912345678",
            "09123456789",
            "0212345678",
            "+8412345678",
            "+84 0012345678",
            "0912a45678",
            "",
            "٠٩١٢٣٤٥٦٧٨",
        ] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn emails_need_the_usual_shape() {
        assert_eq!(
            normalize_email(" NguyenVanA@Example.VN ").as_deref(),
            Some("nguyenvana@example.vn")
        );
        assert!(normalize_email("a.b+tag@mail.hanoi.gov.vn").is_some());
        for bad in [
            "plain",
            "a@b",
            "a@@b.vn",
            "a@b.v",
            "a b@c.vn",
            ".a@b.vn",
            "a..b@c.vn",
            "a@-b.vn",
            "a@b.123",
            "nguyễn@example.vn",
            "a@b..vn",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn codes_are_six_digits_and_hashes_depend_on_every_part() {
        for _ in 0..200 {
            let c = new_code();
            assert!(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()), "{c}");
        }
        let h = code_hash("salt", "id", "123456");
        assert_ne!(h, code_hash("salt2", "id", "123456"));
        assert_ne!(h, code_hash("salt", "id2", "123456"));
        assert_ne!(h, code_hash("salt", "id", "123457"));
    }

    #[test]
    fn forms_pick_the_login_name_and_check_the_password() {
        let form = |email: Option<&str>, phone: Option<&str>, password: &str| RegisterRequest {
            display_name: "  Nguyễn Văn A ".to_owned(),
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            password: password.to_owned(),
            province: None,
        };
        let f =
            RegistrationForm::parse(&form(Some("A@Example.vn"), Some("+84912345678"), "mat-khau-dai-du")).expect("ok");
        assert_eq!(f.username, "a@example.vn");
        assert_eq!(f.phone.as_deref(), Some("0912345678"));
        assert_eq!(f.display_name, "Nguyễn Văn A");
        let f = RegistrationForm::parse(&form(None, Some("0912345678"), "mat-khau-dai-du")).expect("ok");
        assert_eq!(f.username, "0912345678");
        let field = |r: Result<RegistrationForm, AppError>| match r {
            Err(AppError::BadRequest { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(RegistrationForm::parse(&form(None, None, "mat-khau-dai-du"))).as_deref(),
            Some("email")
        );
        assert_eq!(
            field(RegistrationForm::parse(&form(None, Some("0912345678"), "ngan"))).as_deref(),
            Some("password")
        );
        assert_eq!(
            field(RegistrationForm::parse(&form(
                None,
                Some("0912345678"),
                "xx0912345678xx"
            )))
            .as_deref(),
            Some("password")
        );
        assert_eq!(
            field(RegistrationForm::parse(&form(Some("x@y"), None, "mat-khau-dai-du"))).as_deref(),
            Some("email")
        );
    }
}
