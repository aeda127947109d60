//! Catalogue repository: provinces, agencies, fields and versioned procedures.
//! Every function takes an open transaction; the caller commits.

use std::collections::HashSet;

use motcua_core::catalogue::{
    Agency, AgencyAlias, AgencyKind, CatalogueSummary, FeeItem, Field, Invalid, Level, OnlineMode, ProcedureContent,
    ProcedureRecord, ProcedureSummary, ProcedureVersion, Province, ProvinceCatalogue, Receivable, ResultSignature,
};
use motcua_core::codes::{AgencyCode, FieldCode, ProcedureCode, ProvinceCode};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Result, StoreError, Tx, exec, from_millis, on, to_millis};

/// Metadata of one procedure version (without the content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct VersionInfo {
    /// Version number.
    pub version: i64,
    /// Creation instant, milliseconds since the epoch.
    pub created_at: i64,
    /// Why it changed.
    pub note: String,
}

#[derive(sqlx::FromRow)]
struct ProvinceRow {
    code: String,
    name: String,
}

impl ProvinceRow {
    fn into_province(self) -> Result<Province> {
        Ok(Province {
            code: ProvinceCode::parse(&self.code).map_err(|e| corrupt("provinces.code", e))?,
            name: self.name,
        })
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(format!("stored {what} is invalid: {e}"))
}

/// Lists the provinces held by the deployment, ordered by code.
pub async fn provinces(tx: &mut Tx) -> Result<Vec<Province>> {
    let rows: Vec<ProvinceRow> = on!(tx, |c| {
        sqlx::query_as("SELECT code, name FROM provinces ORDER BY code")
            .fetch_all(c)
            .await
    })?;
    rows.into_iter().map(ProvinceRow::into_province).collect()
}

/// Finds one province.
pub async fn province(tx: &mut Tx, code: &ProvinceCode) -> Result<Option<Province>> {
    let row: Option<ProvinceRow> = on!(tx, |c| {
        sqlx::query_as("SELECT code, name FROM provinces WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(c)
            .await
    })?;
    row.map(ProvinceRow::into_province).transpose()
}

/// Creates or renames a province.
pub async fn upsert_province(tx: &mut Tx, p: &Province, now: OffsetDateTime) -> Result<()> {
    let mut p = p.clone();
    p.name = motcua_core::text::nfc(&p.name);
    if p.name.is_empty() {
        return Err(Invalid::new("province.name", "không được để trống").into());
    }
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO provinces (code, unit, name, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name",
        )
        .bind(p.code.as_str())
        .bind(p.code.unit())
        .bind(&p.name)
        .bind(to_millis(now))
        .execute(c)
        .await
    })?;
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO catalogue_generations (province_code, generation) VALUES ($1, 0)
             ON CONFLICT (province_code) DO NOTHING",
        )
        .bind(p.code.as_str())
        .execute(c)
        .await
    })?;
    Ok(())
}

/// The catalogue generation of a province: it changes whenever its catalogue does.
pub async fn generation(tx: &mut Tx, province: &ProvinceCode) -> Result<i64> {
    let g: Option<i64> = on!(tx, |c| {
        sqlx::query_scalar("SELECT generation FROM catalogue_generations WHERE province_code = $1")
            .bind(province.as_str())
            .fetch_optional(c)
            .await
    })?;
    Ok(g.unwrap_or(-1))
}

/// Marks the province's data as changed, so caches on every node reload it.
pub(crate) async fn bump_generation(tx: &mut Tx, province: &ProvinceCode) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query("UPDATE catalogue_generations SET generation = generation + 1 WHERE province_code = $1")
            .bind(province.as_str())
            .execute(c)
            .await
    })?;
    Ok(())
}

async fn require_province(tx: &mut Tx, province: &ProvinceCode) -> Result<()> {
    if self::province(tx, province).await?.is_none() {
        return Err(StoreError::NotFound(format!("tỉnh {province}")));
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AgencyRow {
    code: String,
    name: String,
    kind: String,
    parent_code: Option<String>,
    address: String,
    phone: String,
    email: String,
    admin_code: String,
    retired_at: Option<i64>,
    successor_code: Option<String>,
}

/// The columns of [`AgencyRow`].
const AGENCY_COLUMNS: &str =
    "code, name, kind, parent_code, address, phone, email, admin_code, retired_at, successor_code";

impl AgencyRow {
    fn into_agency(self) -> Result<Agency> {
        let code_of = |what: &str, c: Option<String>| {
            c.map(|c| AgencyCode::parse(&c))
                .transpose()
                .map_err(|e| corrupt(what, e))
        };
        Ok(Agency {
            code: AgencyCode::parse(&self.code).map_err(|e| corrupt("agencies.code", e))?,
            name: self.name,
            kind: AgencyKind::parse(&self.kind).ok_or_else(|| corrupt("agencies.kind", &self.kind))?,
            parent: code_of("agencies.parent_code", self.parent_code)?,
            address: self.address,
            phone: self.phone,
            email: self.email,
            admin_code: self.admin_code,
            retired_at: self.retired_at.map(from_millis),
            successor: code_of("agencies.successor_code", self.successor_code)?,
        })
    }
}

/// Lists a province's agencies in catalogue order (parents before children), retired
/// ones included.
pub async fn agencies(tx: &mut Tx, province: &ProvinceCode) -> Result<Vec<Agency>> {
    let sql = format!("SELECT {AGENCY_COLUMNS} FROM agencies WHERE province_code = $1 ORDER BY position, code");
    let rows: Vec<AgencyRow> = on!(tx, |c| {
        sqlx::query_as(&sql).bind(province.as_str()).fetch_all(c).await
    })?;
    rows.into_iter().map(AgencyRow::into_agency).collect()
}

/// The agency a code names now (docs/map-2025.md §2.2): the agency an alias sends an old
/// code to (a merged agency's code resolves to its successor), else the agency with that
/// code, retired or not; `None` when the province knows neither. Every place that takes an
/// agency code from a request resolves it here.
pub async fn resolve_agency(tx: &mut Tx, province: &ProvinceCode, code: &AgencyCode) -> Result<Option<Agency>> {
    let alias_or_code = "COALESCE((SELECT code FROM agency_aliases WHERE province_code = $1 AND old_code = $2), $2)";
    one_agency(tx, province, code, alias_or_code).await
}

/// The agency of the province whose code is `code_is`, an SQL expression of `$1` (the
/// province) and `$2` (`code`).
async fn one_agency(tx: &mut Tx, province: &ProvinceCode, code: &AgencyCode, code_is: &str) -> Result<Option<Agency>> {
    let sql = format!("SELECT {AGENCY_COLUMNS} FROM agencies WHERE province_code = $1 AND code = {code_is}");
    let row: Option<AgencyRow> = on!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(province.as_str())
            .bind(code.as_str())
            .fetch_optional(c)
            .await
    })?;
    row.map(AgencyRow::into_agency).transpose()
}

/// Creates or updates an agency. Its parent must already exist in the province, the tree
/// stays a tree and keeps the rules between kinds (`Agency::check_parent`), with its
/// children too. A working agency cannot hang from a retired one, nor take a code that an
/// alias sends elsewhere. Retirement is not changed here (see [`retire_agency`]): an edit
/// keeps it as it is.
pub async fn upsert_agency(tx: &mut Tx, province: &ProvinceCode, agency: &Agency) -> Result<()> {
    require_province(tx, province).await?;
    let mut a = agency.clone();
    a.normalize()?;
    let all = agencies(tx, province).await?;
    let find = |code: &AgencyCode| all.iter().find(|x| &x.code == code);
    let stored = find(&a.code);
    // No agency has this code, so whatever it resolves to, an alias sent it there.
    if stored.is_none()
        && let Some(target) = resolve_agency(tx, province, &a.code).await?
    {
        return Err(Invalid::new(
            "code",
            format!(
                "mã {} đã chuyển thành mã {} (sáp nhập); hãy dùng mã khác",
                a.code, target.code
            ),
        )
        .into());
    }
    if let Some(parent_code) = &a.parent {
        if parent_code == &a.code {
            return Err(Invalid::new("parent", "cơ quan không thể là cấp trên của chính nó").into());
        }
        let parent = find(parent_code)
            .ok_or_else(|| Invalid::new("parent", format!("không có cơ quan {parent_code} trong danh mục")))?;
        // Re-parenting must not close a loop: walk up from the new parent to the root.
        let mut cursor = Some(parent);
        let mut depth = 0;
        while let Some(current) = cursor {
            if current.code == a.code || depth > 64 {
                return Err(Invalid::new("parent", "quan hệ cấp trên tạo thành vòng lặp").into());
            }
            cursor = current.parent.as_ref().and_then(find);
            depth += 1;
        }
        a.check_parent(parent)?;
        if !parent.is_active() && stored.is_none_or(Agency::is_active) {
            return Err(Invalid::new("parent", format!("cơ quan {parent_code} đã ngừng hoạt động")).into());
        }
    }
    for child in all.iter().filter(|c| c.parent.as_ref() == Some(&a.code)) {
        child.check_parent(&a).map_err(|e| {
            Invalid::new(
                "kind",
                format!(
                    "cơ quan trực thuộc {} ({}) không còn hợp lệ: {}",
                    child.code, child.name, e.message
                ),
            )
        })?;
    }
    let position = next_position(tx, "agencies", province).await?;
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO agencies (province_code, code, name, kind, parent_code, address, phone, email, admin_code,
                position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (province_code, code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                parent_code = excluded.parent_code, address = excluded.address, phone = excluded.phone,
                email = excluded.email, admin_code = excluded.admin_code",
        )
        .bind(province.as_str())
        .bind(a.code.as_str())
        .bind(&a.name)
        .bind(a.kind.as_str())
        .bind(a.parent.as_ref().map(AgencyCode::as_str))
        .bind(&a.address)
        .bind(&a.phone)
        .bind(&a.email)
        .bind(&a.admin_code)
        .bind(position)
        .execute(c)
        .await
    })?;
    bump_generation(tx, province).await
}

/// Retires agency `code` at `at`: merged into `successor` (its old code then resolves to
/// the successor) or dissolved (`None`). The agency stays, with its dossiers, statistics
/// and history, but receives nothing and issues no dossier code. Its working children
/// must be retired (or moved) first; the successor must be working (an old code of a
/// merged agency resolves to the agency that took it over).
pub async fn retire_agency(
    tx: &mut Tx,
    province: &ProvinceCode,
    code: &AgencyCode,
    successor: Option<&AgencyCode>,
    at: OffsetDateTime,
) -> Result<()> {
    require_province(tx, province).await?;
    let all = agencies(tx, province).await?;
    let agency = all
        .iter()
        .find(|a| &a.code == code)
        .ok_or_else(|| StoreError::NotFound(format!("cơ quan {code}")))?;
    if !agency.is_active() {
        return Err(StoreError::Conflict(format!(
            "cơ quan {code} đã ngừng hoạt động từ trước"
        )));
    }
    let working: Vec<&str> = all
        .iter()
        .filter(|c| c.parent.as_ref() == Some(code) && c.is_active())
        .map(|c| c.code.as_str())
        .collect();
    if !working.is_empty() {
        return Err(StoreError::Conflict(format!(
            "cơ quan {code} còn cơ quan trực thuộc đang hoạt động: {}",
            working.join(", ")
        )));
    }
    if let Some(successor) = successor {
        let heir = resolve_agency(tx, province, successor).await?;
        match heir {
            Some(heir) if &heir.code == code => {
                return Err(Invalid::new("successor", "cơ quan không thể kế thừa chính nó").into());
            }
            Some(heir) if heir.is_active() => {}
            Some(_) => {
                return Err(Invalid::new("successor", format!("cơ quan {successor} đã ngừng hoạt động")).into());
            }
            None => {
                return Err(Invalid::new("successor", format!("không có cơ quan {successor} trong danh mục")).into());
            }
        }
    }
    exec!(tx, |c| {
        sqlx::query("UPDATE agencies SET retired_at = $3, successor_code = $4 WHERE province_code = $1 AND code = $2")
            .bind(province.as_str())
            .bind(code.as_str())
            .bind(to_millis(at))
            .bind(successor.map(AgencyCode::as_str))
            .execute(c)
            .await
    })?;
    if let Some(successor) = successor {
        let alias = AgencyAlias {
            old_code: code.clone(),
            code: successor.clone(),
            at,
        };
        alias_agency(tx, province, &alias).await?;
    }
    bump_generation(tx, province).await
}

/// Makes `alias.old_code` resolve to `alias.code` (or to where that code resolves: one
/// hop, always), and re-points the aliases that resolved to the old code. The old code
/// must not name a working agency; the new one must exist.
pub async fn alias_agency(tx: &mut Tx, province: &ProvinceCode, alias: &AgencyAlias) -> Result<()> {
    require_province(tx, province).await?;
    let old = &alias.old_code;
    if let Some(existing) = agency(tx, province, old).await?
        && existing.is_active()
    {
        return Err(Invalid::new(
            "old_code",
            format!("mã {old} là của cơ quan đang hoạt động {}", existing.name),
        )
        .into());
    }
    let target = resolve_agency(tx, province, &alias.code)
        .await?
        .ok_or_else(|| Invalid::new("code", format!("không có cơ quan {} trong danh mục", alias.code)))?;
    if &target.code == old {
        return Err(Invalid::new("code", format!("mã {old} không thể chuyển về chính nó")).into());
    }
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO agency_aliases (province_code, old_code, code, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (province_code, old_code) DO UPDATE SET code = excluded.code, at = excluded.at",
        )
        .bind(province.as_str())
        .bind(old.as_str())
        .bind(target.code.as_str())
        .bind(to_millis(alias.at))
        .execute(c)
        .await
    })?;
    // Flatten: whatever resolved to the old code now resolves, in one hop, to the target.
    exec!(tx, |c| {
        sqlx::query("UPDATE agency_aliases SET code = $3 WHERE province_code = $1 AND code = $2")
            .bind(province.as_str())
            .bind(old.as_str())
            .bind(target.code.as_str())
            .execute(c)
            .await
    })?;
    bump_generation(tx, province).await
}

/// The agency with exactly this code (no alias followed), retired or not.
pub async fn agency(tx: &mut Tx, province: &ProvinceCode, code: &AgencyCode) -> Result<Option<Agency>> {
    one_agency(tx, province, code, "$2").await
}

/// A province's agency aliases, ordered by old code.
pub async fn agency_aliases(tx: &mut Tx, province: &ProvinceCode) -> Result<Vec<AgencyAlias>> {
    let rows: Vec<(String, String, i64)> = on!(tx, |c| {
        sqlx::query_as("SELECT old_code, code, at FROM agency_aliases WHERE province_code = $1 ORDER BY old_code")
            .bind(province.as_str())
            .fetch_all(c)
            .await
    })?;
    rows.into_iter()
        .map(|(old_code, code, at)| {
            Ok(AgencyAlias {
                old_code: AgencyCode::parse(&old_code).map_err(|e| corrupt("agency_aliases.old_code", e))?,
                code: AgencyCode::parse(&code).map_err(|e| corrupt("agency_aliases.code", e))?,
                at: from_millis(at),
            })
        })
        .collect()
}

/// Where a new row of the province in `table` (`agencies` or `fields`) goes: after the
/// last, so the catalogue keeps the order rows were entered in.
async fn next_position(tx: &mut Tx, table: &'static str, province: &ProvinceCode) -> Result<i64> {
    let sql = format!("SELECT COALESCE(MAX(position), 0) + 1 FROM {table} WHERE province_code = $1");
    let position: i64 = on!(tx, |c| {
        sqlx::query_scalar(&sql).bind(province.as_str()).fetch_one(c).await
    })?;
    Ok(position)
}

async fn agency_exists(tx: &mut Tx, province: &ProvinceCode, code: &AgencyCode) -> Result<bool> {
    let n: i64 = on!(tx, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM agencies WHERE province_code = $1 AND code = $2")
            .bind(province.as_str())
            .bind(code.as_str())
            .fetch_one(c)
            .await
    })?;
    Ok(n > 0)
}

#[derive(sqlx::FromRow)]
struct FieldRow {
    code: String,
    name: String,
    agency_code: String,
}

impl FieldRow {
    fn into_field(self) -> Result<Field> {
        Ok(Field {
            code: FieldCode::parse(&self.code).map_err(|e| corrupt("fields.code", e))?,
            name: self.name,
            agency: AgencyCode::parse(&self.agency_code).map_err(|e| corrupt("fields.agency_code", e))?,
        })
    }
}

/// Lists a province's fields in catalogue order.
pub async fn fields(tx: &mut Tx, province: &ProvinceCode) -> Result<Vec<Field>> {
    let rows: Vec<FieldRow> = on!(tx, |c| {
        sqlx::query_as("SELECT code, name, agency_code FROM fields WHERE province_code = $1 ORDER BY position, code")
            .bind(province.as_str())
            .fetch_all(c)
            .await
    })?;
    rows.into_iter().map(FieldRow::into_field).collect()
}

/// Creates or updates a field. Its agency must exist in the province.
pub async fn upsert_field(tx: &mut Tx, province: &ProvinceCode, field: &Field) -> Result<()> {
    require_province(tx, province).await?;
    let mut f = field.clone();
    f.normalize()?;
    if !agency_exists(tx, province, &f.agency).await? {
        return Err(Invalid::new("agency", format!("không có cơ quan {} trong danh mục", f.agency)).into());
    }
    let position = next_position(tx, "fields", province).await?;
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO fields (province_code, code, name, agency_code, position) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (province_code, code) DO UPDATE SET name = excluded.name, agency_code = excluded.agency_code",
        )
        .bind(province.as_str())
        .bind(f.code.as_str())
        .bind(&f.name)
        .bind(f.agency.as_str())
        .bind(position)
        .execute(c)
        .await
    })?;
    bump_generation(tx, province).await
}

async fn field_agency(tx: &mut Tx, province: &ProvinceCode, code: &FieldCode) -> Result<Option<String>> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("SELECT agency_code FROM fields WHERE province_code = $1 AND code = $2")
            .bind(province.as_str())
            .bind(code.as_str())
            .fetch_optional(c)
            .await
    })?)
}

/// Checks a procedure's content on its own and against the province's catalogue.
async fn check_content(tx: &mut Tx, province: &ProvinceCode, content: &mut ProcedureContent) -> Result<()> {
    content.normalize()?;
    if !agency_exists(tx, province, &content.agency).await? {
        return Err(Invalid::new("agency", format!("không có cơ quan {} trong danh mục", content.agency)).into());
    }
    match field_agency(tx, province, &content.field).await? {
        None => {
            return Err(Invalid::new("field", format!("không có lĩnh vực {} trong danh mục", content.field)).into());
        }
        Some(owner) if owner != content.agency.as_str() => {
            return Err(Invalid::new(
                "field",
                format!(
                    "lĩnh vực {} thuộc cơ quan {owner}, không phải {}",
                    content.field, content.agency
                ),
            )
            .into());
        }
        Some(_) => {}
    }
    for (i, code) in content.communes.iter().enumerate() {
        let problem = match agency(tx, province, code).await? {
            None => format!("không có xã, phường {code} trong danh mục"),
            Some(a) if a.kind != AgencyKind::Commune => format!("{code} ({}) không phải UBND xã, phường", a.name),
            Some(a) if a.retired_at.is_some() => format!("{code} ({}) đã sáp nhập hoặc giải thể", a.name),
            Some(_) => continue,
        };
        return Err(Invalid::new(format!("communes[{i}]"), problem).into());
    }
    for (i, step) in content.steps.iter().enumerate() {
        if let Some(a) = &step.agency
            && !agency_exists(tx, province, a).await?
        {
            return Err(Invalid::new(
                format!("steps[{i}].agency"),
                format!("không có cơ quan {a} trong danh mục"),
            )
            .into());
        }
    }
    Ok(())
}

async fn current_version(tx: &mut Tx, province: &ProvinceCode, code: &ProcedureCode) -> Result<Option<i64>> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("SELECT current_version FROM procedures WHERE province_code = $1 AND code = $2")
            .bind(province.as_str())
            .bind(code.as_str())
            .fetch_optional(c)
            .await
    })?)
}

async fn insert_version(
    tx: &mut Tx,
    province: &ProvinceCode,
    code: &ProcedureCode,
    version: i64,
    created_at: OffsetDateTime,
    note: &str,
    content: &ProcedureContent,
) -> Result<()> {
    let json = serde_json::to_string(content)?;
    let fees = serde_json::to_string(&content.fees)?;
    let hours = i64::from(content.processing_time.working_hours());
    // One statement for the first version and every later one: the row is the summary of
    // whichever version is current.
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO procedures (province_code, code, current_version, name, agency_code, field_code, level,
                processing_hours, at_centre, online_mode, service_level, fees, updated_at, receivable)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (province_code, code) DO UPDATE SET current_version = excluded.current_version,
                name = excluded.name, agency_code = excluded.agency_code, field_code = excluded.field_code,
                level = excluded.level, processing_hours = excluded.processing_hours,
                at_centre = excluded.at_centre, online_mode = excluded.online_mode,
                service_level = excluded.service_level, fees = excluded.fees, updated_at = excluded.updated_at,
                receivable = excluded.receivable",
        )
        .bind(province.as_str())
        .bind(code.as_str())
        .bind(version)
        .bind(&content.name)
        .bind(content.agency.as_str())
        .bind(content.field.as_str())
        .bind(content.level.as_str())
        .bind(hours)
        .bind(content.at_centre)
        .bind(content.online_mode.as_str())
        .bind(i64::from(content.service_level))
        .bind(&fees)
        .bind(to_millis(created_at))
        .bind(content.receivable.as_str())
        .execute(c)
        .await
    })?;
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO procedure_versions (province_code, code, version, created_at, note, content)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(province.as_str())
        .bind(code.as_str())
        .bind(version)
        .bind(to_millis(created_at))
        .bind(note)
        .bind(&json)
        .execute(c)
        .await
    })?;
    bump_generation(tx, province).await
}

/// Creates a procedure (version 1). Fails with a conflict if the code is taken.
pub async fn create_procedure(
    tx: &mut Tx,
    province: &ProvinceCode,
    code: &ProcedureCode,
    mut content: ProcedureContent,
    note: &str,
    now: OffsetDateTime,
) -> Result<ProcedureVersion> {
    require_province(tx, province).await?;
    if current_version(tx, province, code).await?.is_some() {
        return Err(StoreError::Conflict(format!("thủ tục {code} đã có trong danh mục")));
    }
    check_content(tx, province, &mut content).await?;
    let note = motcua_core::text::nfc(note);
    insert_version(tx, province, code, 1, now, &note, &content).await?;
    Ok(ProcedureVersion {
        version: 1,
        created_at: from_millis(to_millis(now)),
        note,
        content,
    })
}

/// Edits a procedure: stores the content as a new version unless it equals the current
/// one (then nothing changes and the current version is returned). `expected_version`,
/// when given, must be the current version (optimistic concurrency for editors).
pub async fn update_procedure(
    tx: &mut Tx,
    province: &ProvinceCode,
    code: &ProcedureCode,
    mut content: ProcedureContent,
    note: &str,
    expected_version: Option<u32>,
    now: OffsetDateTime,
) -> Result<ProcedureVersion> {
    let current = current_version(tx, province, code)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("thủ tục {code}")))?;
    if let Some(expected) = expected_version
        && i64::from(expected) != current
    {
        return Err(StoreError::Conflict(format!(
            "thủ tục {code} đã được sửa (phiên bản hiện tại {current}, bạn sửa từ phiên bản {expected})"
        )));
    }
    check_content(tx, province, &mut content).await?;
    let existing = procedure_version(tx, province, code, current).await?;
    if let Some(existing) = existing
        && existing.content == content
    {
        return Ok(existing);
    }
    let note = motcua_core::text::nfc(note);
    insert_version(tx, province, code, current + 1, now, &note, &content).await?;
    Ok(ProcedureVersion {
        version: u32::try_from(current + 1).unwrap_or(u32::MAX),
        created_at: from_millis(to_millis(now)),
        note,
        content,
    })
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i64,
    created_at: i64,
    note: String,
    content: String,
}

impl VersionRow {
    fn into_version(self) -> Result<ProcedureVersion> {
        Ok(ProcedureVersion {
            version: u32::try_from(self.version).map_err(|e| corrupt("procedure_versions.version", e))?,
            created_at: from_millis(self.created_at),
            note: self.note,
            content: serde_json::from_str(&self.content)?,
        })
    }
}

/// One version of a procedure.
pub async fn procedure_version(
    tx: &mut Tx,
    province: &ProvinceCode,
    code: &ProcedureCode,
    version: i64,
) -> Result<Option<ProcedureVersion>> {
    let row: Option<VersionRow> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT version, created_at, note, content FROM procedure_versions
             WHERE province_code = $1 AND code = $2 AND version = $3",
        )
        .bind(province.as_str())
        .bind(code.as_str())
        .bind(version)
        .fetch_optional(c)
        .await
    })?;
    row.map(VersionRow::into_version).transpose()
}

/// The current version of a procedure.
pub async fn procedure(tx: &mut Tx, province: &ProvinceCode, code: &ProcedureCode) -> Result<Option<ProcedureVersion>> {
    match current_version(tx, province, code).await? {
        Some(v) => procedure_version(tx, province, code, v).await,
        None => Ok(None),
    }
}

/// The version history of a procedure, oldest first (metadata only).
pub async fn procedure_versions(
    tx: &mut Tx,
    province: &ProvinceCode,
    code: &ProcedureCode,
) -> Result<Vec<VersionInfo>> {
    Ok(on!(tx, |c| {
        sqlx::query_as(
            "SELECT version, created_at, note FROM procedure_versions
             WHERE province_code = $1 AND code = $2 ORDER BY version",
        )
        .bind(province.as_str())
        .bind(code.as_str())
        .fetch_all(c)
        .await
    })?)
}

/// Whether procedure `code` requires signed results (migration 0034); `None` when there is
/// no such procedure.
pub async fn result_signature(
    tx: &mut Tx,
    province: &ProvinceCode,
    code: &ProcedureCode,
) -> Result<Option<ResultSignature>> {
    let stored: Option<String> = on!(tx, |c| {
        sqlx::query_scalar("SELECT result_signature FROM procedures WHERE province_code = $1 AND code = $2")
            .bind(province.as_str())
            .bind(code.as_str())
            .fetch_optional(c)
            .await
    })?;
    stored
        .map(|s| {
            ResultSignature::parse(&s)
                .ok_or_else(|| StoreError::Io(format!("unknown result_signature «{s}» in procedures")))
        })
        .transpose()
}

/// Sets whether procedure `code` requires signed results. Not a new version: the setting
/// applies to every finish from now on. Fails with not found when there is no such
/// procedure.
pub async fn set_result_signature(
    tx: &mut Tx,
    province: &ProvinceCode,
    code: &ProcedureCode,
    setting: ResultSignature,
) -> Result<()> {
    let n = exec!(tx, |c| {
        sqlx::query("UPDATE procedures SET result_signature = $3 WHERE province_code = $1 AND code = $2")
            .bind(province.as_str())
            .bind(code.as_str())
            .bind(setting.as_str())
            .execute(c)
            .await
    })?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("thủ tục {code}")));
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    code: String,
    current_version: i64,
    name: String,
    agency_code: String,
    field_code: String,
    level: String,
    processing_hours: i64,
    at_centre: bool,
    online_mode: String,
    service_level: i64,
    fees: String,
    receivable: String,
}

/// Summaries of every current procedure of a province, ordered by code: the input of the
/// search index.
pub async fn procedure_summaries(tx: &mut Tx, province: &ProvinceCode) -> Result<Vec<ProcedureSummary>> {
    let rows: Vec<SummaryRow> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT code, current_version, name, agency_code, field_code, level, processing_hours, at_centre,
                    online_mode, service_level, fees, receivable
             FROM procedures WHERE province_code = $1 ORDER BY code",
        )
        .bind(province.as_str())
        .fetch_all(c)
        .await
    })?;
    rows.into_iter()
        .map(|r| {
            let hours = u32::try_from(r.processing_hours).map_err(|e| corrupt("procedures.processing_hours", e))?;
            let fees: Vec<FeeItem> = serde_json::from_str(&r.fees)?;
            Ok(ProcedureSummary {
                code: ProcedureCode::parse(&r.code).map_err(|e| corrupt("procedures.code", e))?,
                name: r.name,
                agency_code: AgencyCode::parse(&r.agency_code).map_err(|e| corrupt("procedures.agency_code", e))?,
                field_code: FieldCode::parse(&r.field_code).map_err(|e| corrupt("procedures.field_code", e))?,
                level: Level::parse(&r.level).ok_or_else(|| corrupt("procedures.level", &r.level))?,
                processing_days: f64::from(hours) / f64::from(motcua_core::catalogue::HOURS_PER_DAY),
                processing_hours: hours,
                at_centre: r.at_centre,
                receivable: Receivable::parse(&r.receivable)
                    .ok_or_else(|| corrupt("procedures.receivable", &r.receivable))?,
                online_mode: OnlineMode::parse(&r.online_mode)
                    .ok_or_else(|| corrupt("procedures.online_mode", &r.online_mode))?,
                service_level: u8::try_from(r.service_level).map_err(|e| corrupt("procedures.service_level", e))?,
                fees,
                version: u32::try_from(r.current_version).map_err(|e| corrupt("procedures.current_version", e))?,
            })
        })
        .collect()
}

/// Counts for the public summary.
pub async fn summary(tx: &mut Tx, province: &ProvinceCode) -> Result<CatalogueSummary> {
    let p = self::province(tx, province)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("tỉnh {province}")))?;
    let (departments, agencies): (i64, i64) = on!(tx, |c| {
        sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN kind = 'department' THEN 1 ELSE 0 END), 0) AS BIGINT), COUNT(*)
             FROM agencies WHERE province_code = $1",
        )
        .bind(province.as_str())
        .fetch_one(c)
        .await
    })?;
    let fields: i64 = on!(tx, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM fields WHERE province_code = $1")
            .bind(province.as_str())
            .fetch_one(c)
            .await
    })?;
    let (procedures, at_centre, online_full): (i64, i64, i64) = on!(tx, |c| {
        sqlx::query_as(
            "SELECT COUNT(*),
                    CAST(COALESCE(SUM(CASE WHEN at_centre THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN online_mode = 'full' THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM procedures WHERE province_code = $1",
        )
        .bind(province.as_str())
        .fetch_one(c)
        .await
    })?;
    Ok(CatalogueSummary {
        province: p.code.to_string(),
        name: p.name,
        departments,
        agencies,
        fields,
        procedures,
        at_centre,
        online_full,
        online_partial: procedures - online_full,
    })
}

/// Reads a province's whole catalogue with every procedure's full history.
pub async fn export_province(tx: &mut Tx, province: &ProvinceCode) -> Result<ProvinceCatalogue> {
    let p = self::province(tx, province)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("tỉnh {province}")))?;
    let agencies = agencies(tx, province).await?;
    let fields = fields(tx, province).await?;
    let rows: Vec<(String, i64, i64, String, String)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT code, version, created_at, note, content FROM procedure_versions
             WHERE province_code = $1 ORDER BY code, version",
        )
        .bind(province.as_str())
        .fetch_all(c)
        .await
    })?;
    let mut procedures: Vec<ProcedureRecord> = Vec::new();
    for (code, version, created_at, note, content) in rows {
        let version = VersionRow {
            version,
            created_at,
            note,
            content,
        }
        .into_version()?;
        match procedures.last_mut() {
            Some(last) if last.code.as_str() == code => last.versions.push(version),
            _ => procedures.push(ProcedureRecord {
                code: ProcedureCode::parse(&code).map_err(|e| corrupt("procedure_versions.code", e))?,
                versions: vec![version],
            }),
        }
    }
    let aliases = agency_aliases(tx, province).await?;
    Ok(ProvinceCatalogue {
        province: p,
        agencies,
        aliases,
        fields,
        procedures,
    })
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Agencies created or updated.
    pub agencies: usize,
    /// Agencies retired (merged or dissolved) as the file records.
    pub agencies_retired: usize,
    /// Agency aliases written.
    pub aliases: usize,
    /// Fields created or updated.
    pub fields: usize,
    /// Procedures created.
    pub procedures_created: usize,
    /// Procedure versions added.
    pub versions_added: usize,
    /// Procedure versions already present and identical.
    pub versions_unchanged: usize,
}

/// Imports a province's catalogue into the open transaction.
///
/// Agencies and fields are created or updated. Agencies the file records as retired are
/// retired (in the order they were, so each successor was working then), and its aliases
/// written, after the procedures; a stored retirement is never undone. Each procedure's
/// versions must extend the
/// stored history: versions already stored must be identical, new ones follow on
/// consecutively. Anything else is a conflict, and since the caller's transaction is
/// then dropped, nothing of the import is written.
pub async fn import_province(tx: &mut Tx, cat: &ProvinceCatalogue, now: OffsetDateTime) -> Result<ImportReport> {
    let province = &cat.province.code;
    upsert_province(tx, &cat.province, now).await?;
    let mut report = ImportReport::default();
    // Parents first, whatever order the file lists them in.
    let mut pending: Vec<&Agency> = cat.agencies.iter().collect();
    let mut known: HashSet<AgencyCode> = agencies(tx, province).await?.into_iter().map(|a| a.code).collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut rest = Vec::new();
        for a in pending {
            if a.parent.as_ref().is_none_or(|p| known.contains(p)) {
                upsert_agency(tx, province, a)
                    .await
                    .map_err(|e| in_item(e, &format!("agencies[{}]", a.code)))?;
                known.insert(a.code.clone());
                report.agencies += 1;
            } else {
                rest.push(a);
            }
        }
        if rest.len() == before {
            let a = rest[0];
            return Err(Invalid::new(
                format!("agencies[{}].parent", a.code),
                "cơ quan cấp trên không có trong danh mục (hoặc quan hệ cấp trên lặp vòng)",
            )
            .into());
        }
        pending = rest;
    }
    for f in &cat.fields {
        upsert_field(tx, province, f)
            .await
            .map_err(|e| in_item(e, &format!("fields[{}]", f.code)))?;
        report.fields += 1;
    }
    for p in &cat.procedures {
        let at = |e| in_item(e, &format!("procedures[{}]", p.code));
        let stored = procedure_versions(tx, province, &p.code).await.map_err(at)?;
        if stored.is_empty() {
            report.procedures_created += 1;
        }
        for (i, v) in p.versions.iter().enumerate() {
            let expected = i64::try_from(i + 1).unwrap_or(i64::MAX);
            if i64::from(v.version) != expected {
                return Err(at(Invalid::new(
                    "versions",
                    format!("phiên bản phải liên tiếp từ 1 (gặp {} ở vị trí {})", v.version, i + 1),
                )
                .into()));
            }
            if let Some(existing) = procedure_version(tx, province, &p.code, expected).await.map_err(at)? {
                let mut incoming = v.content.clone();
                incoming.normalize().map_err(|e| at(e.into()))?;
                if existing.content != incoming {
                    return Err(at(StoreError::Conflict(format!(
                        "thủ tục {} phiên bản {} khác với bản đã lưu; hãy nhập nội dung mới như một phiên bản mới",
                        p.code, v.version
                    ))));
                }
                report.versions_unchanged += 1;
                continue;
            }
            let mut content = v.content.clone();
            check_content(tx, province, &mut content).await.map_err(at)?;
            let note = motcua_core::text::nfc(&v.note);
            insert_version(tx, province, &p.code, expected, v.created_at, &note, &content)
                .await
                .map_err(at)?;
            report.versions_added += 1;
        }
    }
    report.agencies_retired = import_retirements(tx, cat).await?;
    for alias in &cat.aliases {
        alias_agency(tx, province, alias)
            .await
            .map_err(|e| in_item(e, &format!("aliases[{}]", alias.old_code)))?;
        report.aliases += 1;
    }
    Ok(report)
}

/// Retires the agencies `cat` records as retired and the store does not yet: by date of
/// retirement, children before parents on the same date (a parent retires after its
/// children). Returns how many.
async fn import_retirements(tx: &mut Tx, cat: &ProvinceCatalogue) -> Result<usize> {
    let province = &cat.province.code;
    let depth = |a: &Agency| {
        let mut depth = 0usize;
        let mut cursor = a.parent.as_ref();
        while let Some(p) = cursor.filter(|_| depth < 64) {
            depth += 1;
            cursor = cat
                .agencies
                .iter()
                .find(|x| &x.code == p)
                .and_then(|x| x.parent.as_ref());
        }
        depth
    };
    let mut retiring: Vec<(OffsetDateTime, std::cmp::Reverse<usize>, &Agency)> = cat
        .agencies
        .iter()
        .filter_map(|a| a.retired_at.map(|at| (at, std::cmp::Reverse(depth(a)), a)))
        .collect();
    retiring.sort_by_key(|x| (x.0, x.1));
    let mut retired = 0;
    for (at, _, a) in retiring {
        if agency(tx, province, &a.code)
            .await?
            .is_some_and(|stored| !stored.is_active())
        {
            continue;
        }
        retire_agency(tx, province, &a.code, a.successor.as_ref(), at)
            .await
            .map_err(|e| in_item(e, &format!("agencies[{}]", a.code)))?;
        retired += 1;
    }
    Ok(retired)
}

/// Prefixes the field path of a validation error with the item it came from.
fn in_item(e: StoreError, item: &str) -> StoreError {
    match e {
        StoreError::Invalid(inv) => StoreError::Invalid(Invalid::new(format!("{item}.{}", inv.field), inv.message)),
        StoreError::Conflict(msg) => StoreError::Conflict(format!("{item}: {msg}")),
        other => other,
    }
}
