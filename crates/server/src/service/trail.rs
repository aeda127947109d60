//! The last step of a change made by a service: its audit record, written in the same
//! transaction, then the commit.

use motcua_core::codes::ProvinceCode;
use motcua_store::Tx;

use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::AppError;

/// `action` on the object `object_type` `object_id` of `province`, with no state before or
/// after (a revocation, a deletion). Where there is a state to keep, set `before` and
/// `after` with struct update syntax: `Event { after, ..province_event(…) }`.
pub fn province_event<'a>(
    province: &'a ProvinceCode,
    action: &'a str,
    object_type: &'a str,
    object_id: &'a str,
) -> Event<'a> {
    Event {
        action,
        object_type,
        object_id,
        province: Some(province.as_str()),
        before: None,
        after: None,
    }
}

/// Records `event` as done by `principal` in `tx`, then commits `tx`.
pub async fn record_and_commit(mut tx: Tx, principal: &Principal, event: Event<'_>) -> Result<(), AppError> {
    audit::record(&mut tx, &Actor::of(principal), event).await?;
    tx.commit().await?;
    Ok(())
}
