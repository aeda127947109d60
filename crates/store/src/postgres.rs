//! The PostgreSQL connection when the server goes away: the hosts a URL names (libpq's
//! multi-host syntax, `postgres://u@h1:5432,h2:5432/db?target_session_attrs=read-write`,
//! which sqlx does not read), the session each must offer, and what the pool does while the
//! server is unreachable: answer quickly instead of letting every request wait out the
//! acquire timeout, and move to another named host when the one in use stops accepting
//! connections or writes (a replica promoted after a failover).

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::Notify;

use crate::{Result, StoreError};

/// How long a transaction waits for a connection under load (all connections busy).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long it waits while the database is known to be unreachable (the request is
/// answered 503 after this instead of after [`ACQUIRE_TIMEOUT`]), and how long a start may
/// take before a probe checks whether the server is there.
const WAIT_WHILE_DOWN: Duration = Duration::from_secs(1);
/// How long a look at one host (connect, check its session) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Looks for another host at most this often.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// What a host's session must offer to be used (libpq's `target_session_attrs`; the
/// values a writing application can use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAttrs {
    /// Any server that accepts the connection (libpq's default).
    Any,
    /// A server whose sessions accept writes (`transaction_read_only` is off).
    ReadWrite,
    /// A server that is not in recovery (`pg_is_in_recovery()` is false).
    Primary,
}

impl SessionAttrs {
    /// Its name in a URL.
    fn name(self) -> &'static str {
        match self {
            SessionAttrs::Any => "any",
            SessionAttrs::ReadWrite => "read-write",
            SessionAttrs::Primary => "primary",
        }
    }

    fn parse(value: &str) -> Result<Self> {
        match value {
            "any" => Ok(SessionAttrs::Any),
            "read-write" => Ok(SessionAttrs::ReadWrite),
            "primary" => Ok(SessionAttrs::Primary),
            other => Err(StoreError::Config(format!(
                "target_session_attrs={other} is not supported: use read-write, primary or any"
            ))),
        }
    }

    /// Whether the server behind `conn` offers this; `Err` when it cannot be asked.
    async fn offered_by(self, conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
        Ok(match self {
            SessionAttrs::Any => true,
            SessionAttrs::ReadWrite => {
                let read_only: String = sqlx::query_scalar("SHOW transaction_read_only")
                    .fetch_one(&mut *conn)
                    .await?;
                read_only == "off"
            }
            SessionAttrs::Primary => {
                let recovering: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
                    .fetch_one(&mut *conn)
                    .await?;
                !recovering
            }
        })
    }
}

/// A URL's hosts, each as connect options (`host:port` for the log), and what their
/// session must offer.
#[derive(Debug)]
pub(crate) struct Hosts {
    /// In the order the URL names them.
    pub options: Vec<(String, PgConnectOptions)>,
    /// `target_session_attrs`.
    pub attrs: SessionAttrs,
}

/// Reads a `postgres://` URL naming one host or several (`h1[:p1],h2[:p2],…`, libpq's
/// syntax; a host without a port gets 5432), with an optional `target_session_attrs`.
pub(crate) fn parse_url(url: &str) -> Result<Hosts> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| StoreError::Config("database URL has no scheme".into()))?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hostlist) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let mut attrs = SessionAttrs::Any;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("target_session_attrs", value)) => attrs = SessionAttrs::parse(value)?,
            _ => kept.push(pair),
        }
    }
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    let mut options = Vec::new();
    for host in hostlist.split(',') {
        if host.is_empty() {
            return Err(StoreError::Config("database URL names an empty host".into()));
        }
        // `[v6]:port` or `name:port`: a port is what follows the last colon outside brackets.
        let has_port = host.rfind(':').is_some_and(|i| !host[i..].contains(']'));
        let host = if has_port {
            host.to_owned()
        } else {
            format!("{host}:5432")
        };
        let single = format!("{scheme}://{userinfo}{host}{path}{query}");
        let parsed = PgConnectOptions::from_str(&single)
            .map_err(|e| StoreError::Config(format!("database URL, host {host}: {e}")))?;
        options.push((host, parsed));
    }
    Ok(Hosts { options, attrs })
}

/// The pool's hold on the server: which named host it uses, whether the database is
/// unreachable now, and when it last moved to another host.
#[derive(Debug)]
pub struct Link {
    hosts: Hosts,
    /// Index of the host the pool connects to.
    current: AtomicUsize,
    /// Set when the server is found unreachable (a transaction could not start for want of
    /// it, or a probe could not reach it); cleared when a transaction starts or a probe
    /// reaches it.
    down: AtomicBool,
    /// A look for another host is under way.
    probing: AtomicBool,
    /// When the pool last moved to another host: connections made before are not used.
    switched: Mutex<Option<Instant>>,
    /// Told when a probe finds the database unreachable.
    gone: Notify,
}

impl Link {
    /// Opens the pool on the first host (in the URL's order) that accepts a connection
    /// and offers the session asked for. With one host, the pool's own connect (which
    /// waits up to the acquire timeout for a server that is starting) decides.
    pub(crate) async fn open(url: &str, max_connections: u32) -> Result<(PgPool, Arc<Link>)> {
        let hosts = parse_url(url)?;
        let mut first = 0;
        if hosts.options.len() > 1 {
            let mut refusals = Vec::new();
            let mut found = None;
            for (i, (name, options)) in hosts.options.iter().enumerate() {
                match probe(options, hosts.attrs).await {
                    Ok(()) => {
                        found = Some(i);
                        break;
                    }
                    Err(why) => refusals.push(format!("{name}: {why}")),
                }
            }
            first = found
                .ok_or_else(|| StoreError::Io(format!("no database host can be used: {}", refusals.join("; "))))?;
        }
        let link = Arc::new(Link {
            current: AtomicUsize::new(first),
            down: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            switched: Mutex::new(None),
            gone: Notify::new(),
            hosts,
        });
        let mut options = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT);
        if link.hosts.attrs != SessionAttrs::Any {
            // A server that does not offer the session (a standby not yet promoted, a
            // primary demoted) is refused here; the pool then tries again, on the host a
            // probe has found meanwhile.
            let check = Arc::clone(&link);
            options = options.after_connect(move |conn, _| {
                let attrs = check.hosts.attrs;
                Box::pin(async move {
                    if attrs.offered_by(conn).await? {
                        Ok(())
                    } else {
                        Err(sqlx::Error::Configuration(
                            format!(
                                "the database server does not offer target_session_attrs={}",
                                attrs.name()
                            )
                            .into(),
                        ))
                    }
                })
            });
        }
        if link.hosts.options.len() > 1 {
            // After a move, connections to the host left behind are closed, not reused.
            let fresh = Arc::clone(&link);
            options = options.before_acquire(move |_, meta| {
                let stale = fresh.made_before_switch(meta.age);
                Box::pin(async move { Ok(!stale) })
            });
        }
        let pool = options.connect_with(link.hosts.options[first].1.clone()).await?;
        if link.hosts.options.len() > 1 {
            tracing::info!(host = %link.hosts.options[first].0, "database host chosen");
        }
        Ok((pool, link))
    }

    /// Starts a transaction (with `statement` instead of `BEGIN` when given). While the
    /// database is known to be unreachable, the wait for a connection is short. A start
    /// that is slow sends a probe, which tells a busy pool from a server gone: if gone, the
    /// waits under way end too (abandoning `pool.begin()` is safe: sqlx rolls back a
    /// `BEGIN` cut short). A failure for want of a server sends one as well, which with
    /// several hosts looks for one that serves.
    pub(crate) async fn begin(
        self: &Arc<Self>,
        pool: &PgPool,
        statement: Option<&'static str>,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        // Registered before `down` is read, so that a notice in between is not missed.
        let mut gone = std::pin::pin!(self.gone.notified());
        let was_down = self.down.load(Ordering::Relaxed);
        let mut begun = std::pin::pin!(async {
            match statement {
                Some(s) => pool.begin_with(s).await,
                None => pool.begin().await,
            }
        });
        let begun = match tokio::time::timeout(WAIT_WHILE_DOWN, &mut begun).await {
            Ok(begun) => begun,
            Err(_) if was_down => Err(sqlx::Error::PoolTimedOut),
            Err(_) => {
                self.probe_soon(pool);
                tokio::select! {
                    begun = &mut begun => begun,
                    () = &mut gone => Err(sqlx::Error::PoolTimedOut),
                }
            }
        };
        match begun {
            Ok(tx) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("database reachable again");
                }
                Ok(tx)
            }
            Err(e) => Err(self.failed(pool, e)),
        }
    }

    /// Notes a failure to start a transaction; returns the error.
    fn failed(self: &Arc<Self>, pool: &PgPool, e: sqlx::Error) -> sqlx::Error {
        if unreachable(&e) {
            // A pool timeout alone may be a busy pool: the probe decides.
            if !matches!(e, sqlx::Error::PoolTimedOut) {
                self.mark_down(&e.to_string());
            }
            self.probe_soon(pool);
        }
        e
    }

    /// Notes that the database cannot be reached (logged once per outage), and ends the
    /// waits for a connection under way.
    fn mark_down(&self, why: &str) {
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %why, "database unreachable; answering 503 until it is back");
        }
        self.gone.notify_waiters();
    }

    /// Whether a connection `age` old was made before the pool last moved host.
    fn made_before_switch(&self, age: Duration) -> bool {
        let switched = *self.switched.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        switched.is_some_and(|at| age > at.elapsed())
    }

    /// Looks, in the background, at the host in use, unless a look is under way (and then
    /// waits [`PROBE_INTERVAL`] before the next may start). When that host serves, the
    /// database is no longer marked unreachable, and nothing moves. When it does not, the
    /// database is marked unreachable and the other hosts are tried in the URL's order: the
    /// pool connects to the first that serves from its next connection on.
    fn probe_soon(self: &Arc<Self>, pool: &PgPool) {
        if self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let link = Arc::clone(self);
        let pool = pool.clone();
        tokio::spawn(async move {
            let current = link.current.load(Ordering::Relaxed);
            let (name, options) = &link.hosts.options[current];
            if let Err(why) = probe(options, link.hosts.attrs).await {
                link.mark_down(&format!("{name}: {why}"));
                for (i, (name, options)) in link.hosts.options.iter().enumerate() {
                    if i == current {
                        continue;
                    }
                    match probe(options, link.hosts.attrs).await {
                        Ok(()) => {
                            pool.set_connect_options(options.clone());
                            link.current.store(i, Ordering::Relaxed);
                            *link.switched.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                                Some(Instant::now());
                            tracing::warn!(host = %name, "database host changed");
                            break;
                        }
                        Err(why) => tracing::info!(host = %name, reason = %why, "database host cannot be used"),
                    }
                }
            } else {
                // It serves: requests may wait for it as long as for a busy pool again
                // (while marked down, a connection slower to open than the short wait
                // would never be made).
                if link.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("database reachable again");
                }
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
            link.probing.store(false, Ordering::Release);
        });
    }
}

/// Connects to one host and checks that it offers `attrs`; why not, otherwise.
async fn probe(options: &PgConnectOptions, attrs: SessionAttrs) -> Result<(), String> {
    let attempt = async {
        let mut conn = PgConnection::connect_with(options).await?;
        let offered = attrs.offered_by(&mut conn).await;
        let _ = conn.close().await;
        offered
    };
    match tokio::time::timeout(PROBE_TIMEOUT, attempt).await {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(format!("does not offer target_session_attrs={}", attrs.name())),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer".to_owned()),
    }
}

/// Whether `e` means the database cannot serve now (unreachable, shutting down, starting,
/// out of connections, or read-only while a standby is not yet promoted), rather than a
/// fault of the request or of the code.
pub(crate) fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db.try_downcast_ref::<PgDatabaseError>().is_some_and(|pg| {
            let code = pg.code();
            // 08: connection exception; 57P01–57P03: the server is shutting down, crashed,
            // or not yet accepting; 53300: too many connections; 25006: a read-only server
            // (a standby, or a demoted primary) refused a write.
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "25006")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_one_host_or_several() {
        let one = parse_url("postgres://u:p@db.internal/motcua").expect("one host");
        assert_eq!(one.attrs, SessionAttrs::Any);
        assert_eq!(one.options.len(), 1);
        assert_eq!(one.options[0].0, "db.internal:5432");
        assert_eq!(one.options[0].1.get_host(), "db.internal");
        assert_eq!(one.options[0].1.get_port(), 5432);
        assert_eq!(one.options[0].1.get_database(), Some("motcua"));
        assert_eq!(one.options[0].1.get_username(), "u");

        let two = parse_url(
            "postgresql://u@10.0.0.1:6432,db2,[::1]:7000/motcua?sslmode=disable&target_session_attrs=read-write",
        )
        .expect("three hosts");
        assert_eq!(two.attrs, SessionAttrs::ReadWrite);
        let names: Vec<_> = two.options.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["10.0.0.1:6432", "db2:5432", "[::1]:7000"]);
        let ports: Vec<_> = two.options.iter().map(|(_, o)| o.get_port()).collect();
        assert_eq!(ports, [6432, 5432, 7000]);
        for (_, o) in &two.options {
            assert_eq!(o.get_database(), Some("motcua"));
            assert_eq!(o.get_username(), "u");
        }

        assert_eq!(
            parse_url("postgres://h1,h2/db?target_session_attrs=primary")
                .expect("primary")
                .attrs,
            SessionAttrs::Primary
        );
        assert!(parse_url("postgres://h1,h2/db?target_session_attrs=standby").is_err());
        assert!(parse_url("postgres://h1,,h2/db").is_err());
    }
}
