//! First start: the initial administrator, and the demo accounts of the demo province.

use motcua_core::access::{Grant, Role};
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_store::accounts::{self, NewUser, UserKind};
use motcua_store::{Db, Tx, catalogue};
use time::OffsetDateTime;

use crate::audit::{self, Actor, Event};
use crate::auth::{hash_password_now, random_id, random_token};
use crate::error::AppError;

/// Advisory lock key of first-start work (demo loading, first administrator).
pub const FIRST_START_LOCK: i64 = 727_002;

/// Password of every demo account (documented in the README; demo data only).
pub const DEMO_PASSWORD: &str = "motcua-demo-2019";

/// The demo accounts: username, name, role, agency (unit-relative: `None` is the province,
/// `Some(n)` is `000.00.nn.<unit>`).
pub const DEMO_USERS: &[(&str, &str, Role, Option<u8>)] = &[
    ("quantri", "Nguyễn Văn Quản", Role::SystemAdmin, None),
    ("danhmuc", "Trần Thị Mục", Role::CatalogueAdmin, None),
    ("giamdoc", "Lê Văn Đốc", Role::CentreDirector, Some(16)),
    ("tiepnhan", "Phạm Thị Nhận", Role::CounterOfficer, Some(16)),
    ("cv.xaydung", "Hoàng Văn Dựng", Role::DepartmentOfficer, Some(3)),
    ("ld.xaydung", "Vũ Thị Lãnh", Role::DepartmentLeader, Some(3)),
    ("cv.tuphap", "Đỗ Văn Pháp", Role::DepartmentOfficer, Some(2)),
    ("congdan", "Nguyễn Thị Dân", Role::Citizen, None),
];

async fn hash_blocking(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password_now(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Creates the administrator `admin` when the database has no staff account, with a
/// one-time password that must be changed at first login. It is system and catalogue
/// administrator of every province present. Returns the password, to be shown once.
pub async fn ensure_first_admin(db: &Db) -> Result<Option<String>, AppError> {
    let mut tx = db.begin_read().await?;
    // Staff only: a citizen who registered before the first start must not block it.
    let empty = accounts::count_staff(&mut tx).await? == 0;
    drop(tx);
    if !empty {
        return Ok(None);
    }
    let password = random_token(12);
    let hash = hash_blocking(password.clone()).await?;
    let mut tx = db.begin_write().await?;
    tx.serialize_with(FIRST_START_LOCK).await?;
    // Checked again under the lock: another node may have won the race.
    if accounts::count_staff(&mut tx).await? > 0 {
        return Ok(None);
    }
    let provinces = catalogue::provinces(&mut tx).await?;
    if provinces.is_empty() {
        // Roles are held in a province: an administrator made now could never be given
        // any. The next start after a catalogue import creates it.
        tracing::warn!(
            "no province yet: import a catalogue (motcua import FILE), then start again to create the administrator"
        );
        return Ok(None);
    }
    let id = random_id();
    accounts::create_user(
        &mut tx,
        &NewUser {
            id: &id,
            province: provinces.first().map(|p| &p.code),
            kind: UserKind::Staff,
            username: "admin",
            display_name: "Quản trị hệ thống",
            email: "",
            phone: "",
            citizen_id: "",
            password_hash: &hash,
            must_change_password: true,
        },
        OffsetDateTime::now_utc(),
    )
    .await?;
    for p in &provinces {
        for role in [Role::SystemAdmin, Role::CatalogueAdmin] {
            accounts::add_grant(
                &mut tx,
                &id,
                &Grant {
                    role,
                    province: p.code.clone(),
                    agency: p.code.as_agency().clone(),
                },
            )
            .await?;
        }
    }
    audit::record(
        &mut tx,
        &Actor::system(),
        Event {
            action: "user.create_first_admin",
            object_type: "user",
            object_id: &id,
            province: None,
            before: None,
            after: Some(serde_json::json!({ "username": "admin" })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(password))
}

/// An account of demo data (the demo's own, or a scenario's).
#[derive(Debug, Clone)]
pub struct DemoAccount<'a> {
    /// Login name.
    pub username: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Its one role.
    pub role: Role,
    /// Where it holds the role.
    pub agency: AgencyCode,
    /// Citizen ID (citizens only; empty for staff).
    pub citizen_id: &'a str,
    /// Phone number.
    pub phone: &'a str,
}

/// Creates account `a` of `province` with the password hashed as `hash`, and its grant
/// (citizens get the citizen grant of the province, as registration gives them), unless
/// its username is taken. Says whether it created it.
pub async fn create_demo_account(
    tx: &mut Tx,
    province: &ProvinceCode,
    a: &DemoAccount<'_>,
    hash: &str,
) -> Result<bool, AppError> {
    if accounts::user_by_username(tx, a.username).await?.is_some() {
        return Ok(false);
    }
    let id = random_id();
    let citizen = a.role == Role::Citizen;
    accounts::create_user(
        tx,
        &NewUser {
            id: &id,
            province: (!citizen).then_some(province),
            kind: if citizen { UserKind::Citizen } else { UserKind::Staff },
            username: a.username,
            display_name: a.name,
            email: &format!("{}@demo.motcua.invalid", a.username),
            phone: a.phone,
            citizen_id: a.citizen_id,
            password_hash: hash,
            must_change_password: false,
        },
        OffsetDateTime::now_utc(),
    )
    .await?;
    let grant = Grant {
        role: a.role,
        province: province.clone(),
        agency: if citizen {
            province.as_agency().clone()
        } else {
            a.agency.clone()
        },
    };
    accounts::add_grant(tx, &id, &grant).await?;
    Ok(true)
}

/// The accounts of the Khánh Hòa demo (docs/map-2025.md §7): username, name, role, agency
/// (full codes; usernames are unique across provinces, so they carry the place).
pub const KHANH_HOA_USERS: &[(&str, &str, Role, &str)] = &[
    ("kh.quantri", "Nguyễn Văn Trị", Role::SystemAdmin, "000.00.00.H32"),
    ("kh.danhmuc", "Trần Thị Danh", Role::CatalogueAdmin, "000.00.00.H32"),
    ("kh.congdan", "Nguyễn Thị Biển", Role::Citizen, "000.00.00.H32"),
    ("kh.giamdoc", "Trần Văn Tỉnh", Role::CentreDirector, "000.00.20.H32"),
    ("kh.tiepnhan", "Lê Thị Hòa", Role::CounterOfficer, "000.00.20.H32"),
    (
        "nhatrang.truongtt",
        "Ngô Văn Phường",
        Role::CentreDirector,
        "000.01.31.H32",
    ),
    (
        "nhatrang.tiepnhan",
        "Phan Thị Nha",
        Role::CounterOfficer,
        "000.01.31.H32",
    ),
    (
        "nhatrang.congchuc",
        "Đặng Văn Hộ",
        Role::DepartmentOfficer,
        "000.00.31.H32",
    ),
    (
        "nhatrang.lanhdao",
        "Bùi Thị Xã",
        Role::DepartmentLeader,
        "000.00.31.H32",
    ),
    (
        "phanrang.truongtt",
        "Châu Văn Rang",
        Role::CentreDirector,
        "000.01.73.H32",
    ),
    (
        "phanrang.tiepnhan",
        "Lâm Thị Tháp",
        Role::CounterOfficer,
        "000.01.73.H32",
    ),
    (
        "phanrang.congchuc",
        "Trịnh Văn Tịch",
        Role::DepartmentOfficer,
        "000.00.73.H32",
    ),
    (
        "phanrang.lanhdao",
        "Mai Thị Chăm",
        Role::DepartmentLeader,
        "000.00.73.H32",
    ),
    ("kh.cv.tuphap", "Võ Văn Luật", Role::DepartmentOfficer, "000.00.03.H32"),
    ("kh.ld.tuphap", "Hồ Thị Pháp", Role::DepartmentLeader, "000.00.03.H32"),
    (
        "kh.cv.xaydung",
        "Dương Văn Xây",
        Role::DepartmentOfficer,
        "000.00.07.H32",
    ),
    (
        "kh.ld.xaydung",
        "Kiều Thị Dựng",
        Role::DepartmentLeader,
        "000.00.07.H32",
    ),
];

/// Creates the Khánh Hòa demo accounts (skipping any username already taken), with the
/// demo password.
pub async fn create_khanh_hoa_users(db: &Db) -> Result<usize, AppError> {
    let province = motcua_core::demo_2025::khanh_hoa().province.code;
    let accounts = KHANH_HOA_USERS
        .iter()
        .map(|&(username, name, role, agency)| {
            Ok(DemoAccount {
                username,
                name,
                role,
                agency: AgencyCode::parse(agency).map_err(|e| AppError::Internal(e.to_string()))?,
                citizen_id: if role == Role::Citizen { "056190000321" } else { "" },
                phone: "0912345678",
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    create_demo_accounts(db, &province, &accounts).await
}

/// Creates the demo accounts of `province` (skipping any username already taken).
pub async fn create_demo_users(db: &Db, province: &ProvinceCode) -> Result<usize, AppError> {
    let accounts = DEMO_USERS
        .iter()
        .map(|&(username, name, role, agency)| {
            let agency = match agency {
                None => province.as_agency().clone(),
                Some(n) => AgencyCode::parse(&format!("000.00.{n:02}.{}", province.unit()))
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            };
            Ok(DemoAccount {
                username,
                name,
                role,
                agency,
                citizen_id: if role == Role::Citizen { "058190000123" } else { "" },
                phone: "0912345678",
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    create_demo_accounts(db, province, &accounts).await
}

/// Creates `accounts` in `province` with the demo password (skipping any username already
/// taken), in one transaction with one audit record; how many it created.
async fn create_demo_accounts(
    db: &Db,
    province: &ProvinceCode,
    accounts: &[DemoAccount<'_>],
) -> Result<usize, AppError> {
    // One hash for all: they share the documented password anyway, and hashing each
    // would only slow the first start.
    let hash = hash_blocking(DEMO_PASSWORD.to_owned()).await?;
    let mut tx = db.begin_write().await?;
    let mut created = 0;
    for account in accounts {
        if create_demo_account(&mut tx, province, account, &hash).await? {
            created += 1;
        }
    }
    let event = Event {
        after: Some(serde_json::json!({ "created": created })),
        ..crate::service::trail::province_event(province, "user.create_demo_accounts", "province", province.as_str())
    };
    audit::record(&mut tx, &Actor::system(), event).await?;
    tx.commit().await?;
    Ok(created)
}
