//! Dossiers repository. So far: issuing dossier codes.

use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_core::dossier::{DossierCode, MAX_DAILY_SEQUENCE};
use time::Date;

use crate::{Result, StoreError, Tx, on};

/// Issues the next code of `agency` for `day` (the date received, in Vietnam time) inside
/// the caller's write transaction. Concurrent callers for the same agency and day wait on
/// the sequence row (PostgreSQL) or the single writer (SQLite), so no two dossiers ever
/// share a code; the number is committed or rolled back with the dossier it belongs to.
pub async fn next_code(tx: &mut Tx, province: &ProvinceCode, agency: &AgencyCode, day: Date) -> Result<DossierCode> {
    let day_key = format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day());
    let last: i64 = on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO dossier_sequences (province_code, agency_code, day, last) VALUES ($1, $2, $3, 1)
             ON CONFLICT (agency_code, day) DO UPDATE SET last = dossier_sequences.last + 1
             RETURNING last",
        )
        .bind(province.as_str())
        .bind(agency.as_str())
        .bind(&day_key)
        .fetch_one(c)
        .await
    })?;
    let sequence = u32::try_from(last)
        .ok()
        .filter(|n| *n <= MAX_DAILY_SEQUENCE)
        .ok_or_else(|| {
            StoreError::Conflict(format!(
                "cơ quan {agency} đã cấp đủ {MAX_DAILY_SEQUENCE} mã hồ sơ trong ngày {day_key}; mã hồ sơ theo định dạng 4 chữ số không cấp thêm được"
            ))
        })?;
    DossierCode::new(agency, day, sequence).map_err(|e| StoreError::Io(e.to_string()))
}
