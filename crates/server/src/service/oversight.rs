//! Which centre's figures a caller asks for and may see (docs/map-2025.md §17): the
//! province's overseers (the provincial centre's director, the system administrator) any
//! centre's or the whole province's; a commune centre's head their own centre's only.

use motcua_core::access::Reach;
use motcua_core::codes::{AgencyCode, ProvinceCode};
use serde::Deserialize;

use crate::auth::Principal;
use crate::error::AppError;
use crate::service::dossiers::Directory;

/// `?centre=`: one receiving centre's figures.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CentreQuery {
    /// The centre (agency code, an old code follows its alias); the whole province, or
    /// its provincial centre, when absent (a commune centre's head: their centre, the
    /// only one they may ask for).
    pub centre: Option<String>,
}

/// The centre `p` asks for in `province` and may see `what` of: `None` for the whole
/// province (an overseer who named none), else a working centre of the province. A
/// commune centre's head gets their own centre by default and a 403 for another; anyone
/// else a 403.
pub fn centre_asked(
    dir: &Directory,
    p: &Principal,
    province: &ProvinceCode,
    asked: Option<&str>,
    what: &str,
) -> Result<Option<AgencyCode>, AppError> {
    let asked = asked.map(str::trim).filter(|a| !a.is_empty());
    let centre_of = |code: &str| {
        AgencyCode::parse(code)
            .ok()
            .and_then(|c| dir.resolve(&c))
            .filter(|a| a.kind.is_centre() && a.is_active())
            .map(|a| a.code.clone())
            .ok_or_else(|| {
                AppError::bad(
                    "invalid_parameter",
                    "centre",
                    "Không có trung tâm tiếp nhận mã này trong tỉnh.",
                )
            })
    };
    match p.access.oversight(province) {
        Some(Reach::Province) => asked.map(centre_of).transpose(),
        Some(Reach::Agencies(set)) => {
            let own: Vec<&AgencyCode> = set.iter().filter(|a| dir.is_centre(a.as_str())).collect();
            let chosen = match asked {
                Some(a) => Some(centre_of(a)?),
                None => own.first().map(|c| (*c).clone()),
            };
            match chosen {
                Some(c) if own.contains(&&c) => Ok(Some(c)),
                _ => Err(AppError::Forbidden(format!(
                    "Lãnh đạo Trung tâm cấp xã chỉ xem được {what} của trung tâm mình."
                ))),
            }
        }
        None => Err(AppError::Forbidden(format!(
            "Chỉ lãnh đạo Trung tâm và quản trị hệ thống mới xem được {what}."
        ))),
    }
}
