//! Pages of the administration area (`/quan-tri`): the catalogue (procedures, agencies),
//! accounts and roles, the working-day calendar, API tokens, the audit trail and the rule
//! versions.
//!
//! Every page reads through the store and the API's own handlers; every change is a
//! `data-api` form calling the JSON API, so the rules stay in one place. Catalogue pages
//! are open to catalogue and system administrators; the rest to system administrators.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use motcua_core::codes::ProvinceCode;

use super::charts::num;
use super::{Frame, SignedIn, page, require};
use crate::auth::Principal;
use crate::state::AppState;
use crate::web::pages::PageError;

mod catalogue;
mod rules;
mod system;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/quan-tri", get(home))
        .route("/quan-tri/admin.js", get(script))
        .merge(catalogue::routes())
        .merge(system::routes())
        .merge(rules::routes())
}

/// The administration pages' own script (shows once-only secrets); served from here
/// because the Content-Security-Policy allows no inline script.
const ADMIN_JS: &str = include_str!("../../static/admin.js");

/// `GET /quan-tri/admin.js`
async fn script() -> Response {
    use axum::response::IntoResponse;
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
        ],
        ADMIN_JS,
    )
        .into_response()
}

/// Who is looking and at which province, once their right to the page is checked.
struct Admin {
    state: AppState,
    principal: Principal,
    province: ProvinceCode,
}

impl Admin {
    /// A catalogue administrator (or system administrator) of the default province.
    async fn catalogue(state: AppState, p: Principal) -> Result<Admin, PageError> {
        let province = state.province(None).await?;
        require(p.access.can_edit_catalogue(&province), "sửa danh mục thủ tục")?;
        Ok(Admin {
            state,
            principal: p,
            province,
        })
    }

    /// A system administrator of the default province.
    async fn system(state: AppState, p: Principal) -> Result<Admin, PageError> {
        let province = state.province(None).await?;
        require(p.access.can_administer(&province), "quản trị hệ thống")?;
        Ok(Admin {
            state,
            principal: p,
            province,
        })
    }

    async fn frame(&self) -> Result<Frame, PageError> {
        Frame::new(&self.state, Some(&self.principal)).await
    }
}

/// A counted link of the administration home.
struct Section {
    href: &'static str,
    title: &'static str,
    text: String,
}

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    frame: Frame,
    catalogue: Vec<Section>,
    system: Vec<Section>,
}

/// `GET /quan-tri`: the administration home.
async fn home(State(state): State<AppState>, SignedIn(p): SignedIn) -> Result<Response, PageError> {
    let province = state.province(None).await?;
    let can_catalogue = p.access.can_edit_catalogue(&province);
    let can_admin = p.access.can_administer(&province);
    require(can_catalogue || can_admin, "vào trang quản trị")?;
    let mut tx = state.db.begin_read().await?;
    let s = motcua_store::catalogue::summary(&mut tx, &province).await?;
    let mut catalogue = vec![
        Section {
            href: "/quan-tri/thu-tuc",
            title: "Thủ tục hành chính",
            text: format!(
                "{} thủ tục ({} toàn trình, {} một phần); sửa nội dung, thành phần hồ sơ, phí, các bước.",
                num(s.procedures),
                num(s.online_full),
                num(s.online_partial)
            ),
        },
        Section {
            href: "/quan-tri/co-quan",
            title: "Cơ quan và lĩnh vực",
            text: format!(
                "{} cơ quan ({} sở, ngành), {} lĩnh vực.",
                num(s.agencies),
                num(s.departments),
                num(s.fields)
            ),
        },
    ];
    let mut system = Vec::new();
    if can_admin {
        let users = motcua_store::accounts::list_users(&mut tx, Some(&province)).await?;
        let locked = users
            .iter()
            .filter(|u| u.locked_until.is_some_and(|t| t > crate::now_ms()))
            .count();
        let tokens = motcua_store::accounts::list_api_tokens(&mut tx)
            .await?
            .into_iter()
            .filter(|t| t.province_code.as_deref() == Some(province.as_str()) && t.revoked_at.is_none())
            .count();
        let year = time::OffsetDateTime::now_utc().to_offset(super::VN).year();
        system = vec![
            Section {
                href: "/quan-tri/nguoi-dung",
                title: "Người dùng và vai trò",
                text: format!(
                    "{} tài khoản, {} đang bị khóa; tạo tài khoản, cấp lại mật khẩu, phân quyền.",
                    num(users.len() as i64),
                    num(locked as i64)
                ),
            },
            Section {
                href: "/quan-tri/lich",
                title: "Lịch làm việc",
                text: format!("Ngày nghỉ lễ, ngày nghỉ bù và ngày làm bù năm {year}."),
            },
            Section {
                href: "/quan-tri/xep-hang",
                title: "Xếp hàng tại quầy",
                text: "Nhóm dịch vụ, các quầy, đối tượng ưu tiên và mã cho máy lấy số thứ tự.".to_owned(),
            },
            Section {
                href: "/quan-tri/loai-giay-to",
                title: "Loại giấy tờ trong kho",
                text: "Danh mục loại giấy tờ của kho giấy tờ công dân: mã, tên, cụm từ nhận biết, thời hạn hiệu lực.".to_owned(),
            },
            Section {
                href: "/quan-tri/ma-truy-cap",
                title: "Mã truy cập API",
                text: format!("{} mã đang hiệu lực cho các hệ thống kết nối.", num(tokens as i64)),
            },
            Section {
                href: "/quan-tri/nhat-ky",
                title: "Nhật ký hệ thống",
                text: "Ai đã làm gì, lúc nào: lọc theo người, thao tác, đối tượng, ngày.".to_owned(),
            },
            Section {
                href: "/quan-tri/quy-dinh",
                title: "Các phiên bản quy định",
                text: "Chỉ số đánh giá, chỉ số phục vụ (Quyết định 766), biểu mẫu và tên trạng thái theo ngày có hiệu lực; nạp phiên bản mới khi quy định thay đổi.".to_owned(),
            },
            Section {
                href: "/van-hanh/chuyen-phat",
                title: "Vận hành: hàng đợi chuyển phát",
                text: "Thông báo, webhook và đồng bộ đang chờ gửi hoặc lỗi; gửi lại.".to_owned(),
            },
        ];
    }
    drop(tx);
    if !can_catalogue {
        catalogue.clear();
    }
    Ok(page(&HomePage {
        frame: Frame::new(&state, Some(&p)).await?,
        catalogue,
        system,
    }))
}

/// An option of a `<select>`.
#[derive(Debug, Clone)]
struct Choice {
    value: String,
    label: String,
}

impl Choice {
    fn new(value: impl Into<String>, label: impl Into<String>) -> Choice {
        Choice {
            value: value.into(),
            label: label.into(),
        }
    }
}
