//! Storage on SQLite (built in) or PostgreSQL, through one portable schema. Every push is
//! one transaction: it is acknowledged only after it committed, and either all of its
//! mutations apply or none do.

use std::str::FromStr;

use inflow_core::curation::Collection;
use inflow_core::sync::{apply, MergeError, Mutation, SyncedTip};
use inflow_core::walkthrough::Record as WalkthroughRecord;
use inflow_core::{Tip, TipId};
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};

use crate::auth::{Member, Role};

/// The schema, as numbered SQL files in `server/migrations/` (one portable SQL for SQLite
/// and PostgreSQL), applied in order by sqlx; each one only adds to the ones before it.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Why the store could not do what it was asked. `error.rs` alone turns these into HTTP
/// answers; the command line prints them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An id another team holds (ids are unique across the server).
    #[error("{what} {id} is already used; generate a new one")]
    Taken { what: &'static str, id: String },
    /// The mutation does not apply to the stored tip (core's merge rules).
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// The caller's own rule refused the mutation (see [`Authorize`]).
    #[error("{0}")]
    Refused(Refusal),
    /// A stored row that does not read as what it should be.
    #[error("a stored row could not be read: {0}")]
    Unreadable(serde_json::Error),
    #[error("a value could not be written as JSON: {0}")]
    Encode(serde_json::Error),
    #[error("no randomness for a token: {0}")]
    NoRandomness(String),
    /// The team's writer task ended before it answered (it panicked).
    #[error("the writer of the team's pushes stopped")]
    WriterGone,
    /// A record kept changing under every try to merge into it.
    #[error("the record kept changing while it was written; try again")]
    Contended,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A database failure again, for each push of a group that failed as one: `sqlx::Error`
/// is not `Clone`; what `error.rs` reads of it (the code, for "busy") is kept.
fn copy_of(error: &sqlx::Error) -> sqlx::Error {
    match error.as_database_error().and_then(|e| e.code()) {
        Some(code) => sqlx::Error::Protocol(format!("{error} (code {code})")),
        None => sqlx::Error::Protocol(error.to_string()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool and which database is behind it.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    pub backend: Backend,
    /// Stored rows left out of pulls because they could not be read (`/metrics`).
    pub unreadable_rows: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Stored versions (sequence number, team) already read as tips: a pull passes them on
    /// without reading them again.
    readable: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<(i64, String)>>>,
    /// Each team's push writer (see [`Db::push`]).
    writers: std::sync::Arc<
        std::sync::Mutex<std::collections::HashMap<String, tokio::sync::mpsc::UnboundedSender<PushJob>>>,
    >,
}

/// What a pull found: the changes (each a [`SyncedTip`]'s JSON, as stored), whether more
/// wait, and the last sequence number read (past any row left out), for the cursor.
pub struct Pulled {
    pub changes: Vec<(i64, String)>,
    pub more: bool,
    pub last_seq: i64,
}

/// What a push did.
pub struct Pushed {
    /// Ids of the pushed mutations now durable (including ones applied before).
    pub ids: Vec<TipId>,
    /// The team's sequence after this push, if it applied anything new.
    pub last_seq: Option<i64>,
}

/// What an import stored.
pub struct Imported {
    /// The team's sequence after the import, if it added anything.
    pub last_seq: Option<i64>,
    /// Tips left out because their id was taken while the import ran.
    pub taken: Vec<TipId>,
}

/// A team's own settings, as the server keeps their texts.
pub struct TeamSettings {
    pub name: String,
    pub screen_rules: Vec<String>,
    pub identifying_fields: Vec<String>,
}

/// A member as stored, for authentication.
pub struct StoredMember {
    pub member: Member,
    pub token_hash: String,
    pub revoked: bool,
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://...`), creating a SQLite file and
    /// its folder if needed, and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let mut sqlite_file = None;
        let url = match backend {
            Backend::Sqlite => {
                let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
                let path = path.split('?').next().unwrap_or(path);
                if !path.is_empty() && path != ":memory:" && !url.contains("mode=memory") {
                    sqlite_file = Some(std::path::PathBuf::from(path));
                }
                if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
                }
                if url.contains('?') {
                    url.to_owned()
                } else {
                    format!("{url}?mode=rwc")
                }
            }
            Backend::Postgres => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(connections(backend))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL with full sync: a commit is on disk before it is acknowledged.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let db = Db {
            pool,
            backend,
            unreadable_rows: Default::default(),
            readable: Default::default(),
            writers: Default::default(),
        };
        // SQLite has no advisory lock for sqlx's migrator to take: two instances starting
        // at once on one file would both run a pending migration (the second fails on
        // "duplicate column"). A lock on a file beside the database serialises them.
        let migrating = match sqlite_file {
            Some(database) => Some(lock_beside(&database).await?),
            None => None,
        };
        db.migrate().await?;
        drop(migrating);
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.adopt_old_schema_versions().await?;
        MIGRATOR.run(&self.pool).await.map_err(|e| StoreError::Database(e.into()))
    }

    /// Databases made before the schema moved to sqlx's migrator counted their versions in
    /// `inflow_schema`, with the same SQL as the first files: those versions are recorded
    /// as applied (with the files' checksums), once, and the old table goes.
    async fn adopt_old_schema_versions(&self) -> Result<(), StoreError> {
        let old: Option<i64> =
            match sqlx::query("SELECT MAX(version) AS v FROM inflow_schema").fetch_one(&self.pool).await {
                Ok(row) => row.try_get("v").ok(),
                Err(_) => return Ok(()), // no such table: a new database, or adopted already
            };
        use sqlx::migrate::Migrate;
        let mut conn = self.pool.acquire().await?;
        // The migrator's own lock (an advisory lock on PostgreSQL): several instances may
        // start at once, and only one may make the table or record the versions.
        conn.lock().await.map_err(|e| StoreError::Database(e.into()))?;
        conn.ensure_migrations_table().await.map_err(|e| StoreError::Database(e.into()))?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for migration in MIGRATOR.iter().filter(|m| m.version <= old.unwrap_or(0)) {
            sqlx::query(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES ($1, $2, TRUE, $3, 0) ON CONFLICT (version) DO NOTHING",
            )
            .bind(migration.version)
            .bind(migration.description.to_string())
            .bind(migration.checksum.to_vec())
            .execute(&mut *tx)
            .await?;
        }
        tx.execute("DROP TABLE IF EXISTS inflow_schema").await?;
        tx.commit().await?;
        conn.unlock().await.map_err(|e| StoreError::Database(e.into()))?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Creates a team called `name`; `None` when a team of that name (in any case) exists,
    /// so that a name always names one team.
    pub async fn create_team(&self, name: &str) -> Result<Option<String>, StoreError> {
        let id = new_id();
        let made = sqlx::query(
            "INSERT INTO teams (id, name, created_ms) SELECT $1, $2, $3 \
             WHERE NOT EXISTS (SELECT 1 FROM teams WHERE LOWER(name) = LOWER($2))",
        )
        .bind(&id)
        .bind(name)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok((made.rows_affected() == 1).then_some(id))
    }

    pub async fn team_exists(&self, team_id: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT id FROM teams WHERE id = $1").bind(team_id).fetch_optional(&self.pool).await?.is_some())
    }

    /// Adds a member and returns its id and bearer token (shown once, stored hashed).
    pub async fn add_member(&self, team_id: &str, name: &str, role: Role) -> Result<(String, String), StoreError> {
        let id = new_id();
        let (token, hash) = crate::auth::new_token(&id).map_err(|e| StoreError::NoRandomness(e.to_string()))?;
        sqlx::query(
            "INSERT INTO members (id, team_id, name, role, token_hash, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(team_id)
        .bind(name)
        .bind(role.as_str())
        .bind(&hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok((id, token))
    }

    /// The team's name, its screen rules (see `inflow_core::screen`) and its identifying
    /// fields (see `inflow_core::fields`), as their texts.
    pub async fn team(&self, team_id: &str) -> Result<Option<TeamSettings>, StoreError> {
        let Some(row) = sqlx::query("SELECT name, screen_rules, identifying_fields FROM teams WHERE id = $1")
            .bind(team_id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let rules: String = row.try_get("screen_rules")?;
        let fields: String = row.try_get("identifying_fields")?;
        Ok(Some(TeamSettings {
            name: row.try_get("name")?,
            screen_rules: serde_json::from_str(&rules).unwrap_or_default(),
            identifying_fields: serde_json::from_str(&fields).unwrap_or_default(),
        }))
    }

    /// Replaces the team's screen rules; the caller has checked them.
    pub async fn set_screen_rules(&self, team_id: &str, rules: &[String]) -> Result<(), StoreError> {
        self.set_team_list(team_id, "screen_rules", rules).await
    }

    /// Replaces the team's identifying fields; the caller has checked them.
    pub async fn set_identifying_fields(&self, team_id: &str, fields: &[String]) -> Result<(), StoreError> {
        self.set_team_list(team_id, "identifying_fields", fields).await
    }

    /// Stores a list of texts as JSON in one of the team's columns (a name from the two
    /// callers above, never from a request).
    async fn set_team_list(&self, team_id: &str, column: &'static str, texts: &[String]) -> Result<(), StoreError> {
        let text = serde_json::to_string(texts).map_err(StoreError::Encode)?;
        sqlx::query(&format!("UPDATE teams SET {column} = $1 WHERE id = $2"))
            .bind(text)
            .bind(team_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The ids of the teams called `name` (in any case), oldest first: one, since names are
    /// unique, but teams made before that may share a name.
    pub async fn teams_named(&self, name: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT id FROM teams WHERE LOWER(name) = LOWER($1) ORDER BY created_ms, id")
            .bind(name)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?)
    }

    /// The id of the oldest team called `name`, if there is one.
    pub async fn team_named(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT id FROM teams WHERE name = $1 ORDER BY created_ms LIMIT 1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("id")).transpose()?)
    }

    /// The id of the member of `team_id` called `name`, if there is one.
    pub async fn member_named(&self, team_id: &str, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT id FROM members WHERE team_id = $1 AND name = $2 ORDER BY created_ms LIMIT 1")
            .bind(team_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("id")).transpose()?)
    }

    /// Gives a member a new token (the old one stops working at once) and clears any
    /// revocation. Returns `None` when there is no such member.
    pub async fn reissue_token(&self, member_id: &str) -> Result<Option<String>, StoreError> {
        let (token, hash) = crate::auth::new_token(member_id).map_err(|e| StoreError::NoRandomness(e.to_string()))?;
        let done = sqlx::query("UPDATE members SET token_hash = $1, revoked_ms = NULL WHERE id = $2")
            .bind(&hash)
            .bind(member_id)
            .execute(&self.pool)
            .await?;
        Ok((done.rows_affected() > 0).then_some(token))
    }

    /// Revokes a member's token; returns whether the member existed.
    pub async fn revoke_member(&self, member_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE members SET revoked_ms = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(member_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn member_for_auth(&self, member_id: &str) -> Result<Option<StoredMember>, StoreError> {
        let row = sqlx::query("SELECT id, team_id, name, role, token_hash, revoked_ms FROM members WHERE id = $1")
            .bind(member_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        let revoked: Option<i64> = row.try_get("revoked_ms")?;
        Ok(Some(StoredMember {
            member: Member {
                id: row.try_get("id")?,
                team_id: row.try_get("team_id")?,
                name: row.try_get("name")?,
                role: Role::parse(&role).unwrap_or(Role::Member),
            },
            token_hash: row.try_get("token_hash")?,
            revoked: revoked.is_some(),
        }))
    }

    /// Applies `mutations` for `member`, all or none, and returns the ids now durable and
    /// the team's sequence after them (`None` when nothing new was applied).
    /// `authorize` decides, for each mutation and the stored tip, whether the member may.
    ///
    /// Pushes of one team are written by one task, several to a transaction: those that
    /// arrive while a transaction commits go into the next one, each under its own
    /// savepoint, so one refused push leaves the others whole. The team's lock is then
    /// taken, and the disk flushed, once for many pushes instead of once for each (group
    /// commit); a push is still acknowledged only after its transaction committed.
    pub async fn push(
        &self,
        member: &Member,
        mutations: &[Mutation],
        authorize: Authorize,
    ) -> Result<Pushed, StoreError> {
        if mutations.is_empty() {
            return Ok(Pushed { ids: Vec::new(), last_seq: None });
        }
        let (done, answer) = tokio::sync::oneshot::channel();
        let mut job = PushJob { member: member.clone(), mutations: mutations.to_vec(), authorize, done };
        for _ in 0..2 {
            let writer = self.team_writer(&member.team_id);
            match writer.send(job) {
                Ok(()) => {
                    return answer.await.unwrap_or(Err(StoreError::WriterGone));
                }
                // The team's writer ended (it panicked): start another and hand it the push.
                Err(tokio::sync::mpsc::error::SendError(returned)) => {
                    self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&member.team_id);
                    job = returned;
                }
            }
        }
        Err(StoreError::WriterGone)
    }

    /// The task that writes `team_id`'s pushes, started on first use.
    fn team_writer(&self, team_id: &str) -> tokio::sync::mpsc::UnboundedSender<PushJob> {
        let mut writers = self.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(writer) = writers.get(team_id) {
            return writer.clone();
        }
        let (sender, mut jobs) = tokio::sync::mpsc::unbounded_channel::<PushJob>();
        let (db, team_id_owned) = (self.clone(), team_id.to_owned());
        tokio::spawn(async move {
            while let Some(first) = jobs.recv().await {
                let mut group = vec![first];
                while group.len() < MAX_PUSHES_PER_COMMIT {
                    match jobs.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                db.commit_group(&team_id_owned, group).await;
            }
        });
        writers.insert(team_id.to_owned(), sender.clone());
        sender
    }

    /// Writes a group of one team's pushes in one transaction and answers each.
    async fn commit_group(&self, team_id: &str, group: Vec<PushJob>) {
        let mut answers: Vec<(Answer, Result<Pushed, StoreError>)> = Vec::with_capacity(group.len());
        let outcome: Result<(), sqlx::Error> = async {
            let mut tx = self.pool.begin().await?;
            // The team's sequence is read once under its lock, counted here and written back
            // once: a round trip less for every mutation while the lock is held.
            let first_seq: i64 = sqlx::query("UPDATE teams SET last_seq = last_seq WHERE id = $1 RETURNING last_seq")
                .bind(team_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("last_seq")?;
            let mut seq = first_seq;
            // A push alone needs no savepoint: if it is refused the transaction is dropped.
            let alone = group.len() == 1;
            let mut last_seq = None;
            for job in group {
                if !alone {
                    tx.execute("SAVEPOINT push").await?;
                }
                let before = seq;
                let result = apply_push(&mut tx, &job.member, &job.mutations, job.authorize, &mut seq).await;
                if alone && result.is_err() {
                    let _ = job.done.send(result);
                    return Ok(()); // rolled back as `tx` is dropped
                }
                match &result {
                    Ok(pushed) => {
                        last_seq = pushed.last_seq.or(last_seq);
                        if !alone {
                            tx.execute("RELEASE SAVEPOINT push").await?;
                        }
                    }
                    Err(_) => {
                        seq = before;
                        tx.execute("ROLLBACK TO SAVEPOINT push").await?;
                        tx.execute("RELEASE SAVEPOINT push").await?;
                    }
                }
                answers.push((job.done, result));
            }
            if seq != first_seq {
                sqlx::query("UPDATE teams SET last_seq = $1 WHERE id = $2")
                    .bind(seq)
                    .bind(team_id)
                    .execute(&mut *tx)
                    .await?;
            }
            announce(&mut tx, self.backend, team_id, last_seq).await?;
            tx.commit().await
        }
        .await;
        if let Err(failure) = outcome {
            // Nothing of the group was stored: every push hears so, none is acknowledged.
            for (done, _) in answers.drain(..) {
                let _ = done.send(Err(StoreError::Database(copy_of(&failure))));
            }
            return;
        }
        for (done, result) in answers {
            let _ = done.send(result); // a caller that went away retries; its push is applied
        }
    }
}

/// Who may apply a mutation to the stored tip: the HTTP layer's rule (see `sync.rs`).
pub type Authorize = fn(&Member, &Mutation, Option<&SyncedTip>) -> Result<(), Refusal>;

/// Why the caller's rule ([`Authorize`]) refused a mutation, in words for the member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The member may not make this change (another's tip, a step above their role).
    NotAllowed(String),
    /// The change cannot be made at all (a private tip, a step the tip's state refuses).
    Invalid(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotAllowed(why) | Refusal::Invalid(why) => f.write_str(why),
        }
    }
}

/// How many read versions [`Db::pull`] remembers before it starts again (about 14 MB at
/// most: a sequence number and a team id each).
const READ_VERSIONS_KEPT: usize = 200_000;

/// The most pushes one transaction carries: the group's savepoints and its locks stay small.
const MAX_PUSHES_PER_COMMIT: usize = 64;

/// Where a push's answer goes.
type Answer = tokio::sync::oneshot::Sender<Result<Pushed, StoreError>>;

/// A push waiting for its team's writer.
struct PushJob {
    member: Member,
    mutations: Vec<Mutation>,
    authorize: Authorize,
    done: Answer,
}

/// Applies one push's mutations inside the group's transaction (the team's lock is held).
async fn apply_push(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    member: &Member,
    mutations: &[Mutation],
    authorize: Authorize,
    seq: &mut i64,
) -> Result<Pushed, StoreError> {
    let tx = &mut **tx;
    let mut acked = Vec::with_capacity(mutations.len());
    let mut last_seq = None;
    for mutation in mutations {
        let mutation_id = mutation.id.to_string();
        // The mutation is recorded first: a new one (the common case) costs one statement.
        // A taken id is this team's retry (already applied: acknowledged again) or another
        // team's (refused); another team's push that holds it uncommitted is waited for.
        let recorded =
            sqlx::query("INSERT INTO applied_mutations (id, team_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
                .bind(&mutation_id)
                .bind(&member.team_id)
                .execute(&mut *tx)
                .await?;
        if recorded.rows_affected() != 1 {
            let owner = sqlx::query("SELECT team_id FROM applied_mutations WHERE id = $1")
                .bind(&mutation_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get::<String, _>("team_id"))
                .transpose()?;
            if owner.as_deref() != Some(member.team_id.as_str()) {
                return Err(StoreError::Taken { what: "mutation id", id: mutation_id });
            }
            acked.push(mutation.id); // a retried push: already applied
            continue;
        }
        let tip_id = mutation.change.tip_id().to_string();
        let stored =
            sqlx::query("SELECT team_id, body FROM tips WHERE id = $1").bind(&tip_id).fetch_optional(&mut *tx).await?;
        let existing = match stored {
            Some(row) => {
                let team: String = row.try_get("team_id")?;
                if team != member.team_id {
                    return Err(StoreError::Taken { what: "tip id", id: tip_id });
                }
                let body: String = row.try_get("body")?;
                Some(serde_json::from_str::<SyncedTip>(&body).map_err(|e| {
                    tracing::error!("stored tip {tip_id} is unreadable: {e}");
                    StoreError::Unreadable(e)
                })?)
            }
            None => None,
        };
        authorize(member, mutation, existing.as_ref()).map_err(StoreError::Refused)?;
        let merged = apply(existing, mutation)?;
        let body = serde_json::to_string(&merged).map_err(StoreError::Encode)?;
        *seq += 1;
        let seq = *seq;
        // The owner is decided in the write itself: another team's push of the same id
        // may have committed since the read above (PostgreSQL runs teams' pushes side by
        // side), and then this updates nothing and the push is refused, never shared.
        let written = sqlx::query(
            "INSERT INTO tips (id, team_id, seq, body) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, body = excluded.body \
                 WHERE tips.team_id = excluded.team_id",
        )
        .bind(&tip_id)
        .bind(&member.team_id)
        .bind(seq)
        .bind(&body)
        .execute(&mut *tx)
        .await?;
        if written.rows_affected() != 1 {
            return Err(StoreError::Taken { what: "tip id", id: tip_id });
        }
        acked.push(mutation.id);
        last_seq = Some(seq);
    }
    Ok(Pushed { ids: acked, last_seq })
}

impl Db {
    /// Tips of `team_id` changed after `after_seq`, in sequence order: up to `limit`, and
    /// whether more are waiting.
    pub async fn pull(&self, team_id: &str, after_seq: i64, limit: u32) -> Result<Pulled, StoreError> {
        let rows = sqlx::query("SELECT seq, body FROM tips WHERE team_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
            .bind(team_id)
            .bind(after_seq)
            .bind(i64::from(limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() > limit as usize;
        let mut changes = Vec::with_capacity(rows.len().min(limit as usize));
        let mut last_seq = after_seq;
        for row in rows.into_iter().take(limit as usize) {
            let seq: i64 = row.try_get("seq")?;
            last_seq = seq;
            let body: String = row.try_get("body")?;
            // One row that cannot be read (stored by an older server, or damaged) never fails
            // the team's pull: it is left out, logged and counted, and the cursor moves past it.
            // Each stored version is read once; pulls then pass its JSON on as it is.
            let key = (seq, team_id.to_owned());
            let known = self.readable.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&key);
            if !known {
                if let Err(e) = serde_json::from_str::<SyncedTip>(&body) {
                    self.unreadable(team_id, seq, &e);
                    continue;
                }
                let mut readable = self.readable.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if readable.len() >= READ_VERSIONS_KEPT {
                    readable.clear();
                }
                readable.insert(key);
            }
            changes.push((seq, body));
        }
        Ok(Pulled { changes, more, last_seq })
    }

    fn unreadable(&self, team_id: &str, seq: i64, e: &serde_json::Error) {
        tracing::error!("team {team_id}: stored tip at seq {seq} is unreadable and was left out of a pull: {e}");
        self.unreadable_rows.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The team's live tips (tombstoned ones left out), oldest first: what exports read.
    pub async fn tips(&self, team_id: &str) -> Result<Vec<Tip>, StoreError> {
        let rows = sqlx::query("SELECT body FROM tips WHERE team_id = $1 ORDER BY id")
            .bind(team_id)
            .fetch_all(&self.pool)
            .await?;
        let mut tips = Vec::with_capacity(rows.len());
        for row in rows {
            let body: String = row.try_get("body")?;
            let synced: SyncedTip = serde_json::from_str(&body).map_err(StoreError::Unreadable)?;
            if !synced.is_deleted() {
                tips.push(synced.tip);
            }
        }
        Ok(tips)
    }

    /// Every tip id the team has (tombstones included): what an import must not repeat.
    pub async fn tip_ids(&self, team_id: &str) -> Result<std::collections::HashSet<TipId>, StoreError> {
        let rows = sqlx::query("SELECT id FROM tips WHERE team_id = $1").bind(team_id).fetch_all(&self.pool).await?;
        Ok(rows.iter().filter_map(|r| r.try_get::<String, _>("id").ok()?.parse().ok()).collect())
    }

    /// Which of `ids` other teams hold (ids are unique across the server).
    pub async fn tip_ids_elsewhere(
        &self,
        team_id: &str,
        ids: &[TipId],
    ) -> Result<std::collections::HashSet<TipId>, StoreError> {
        let mut found = std::collections::HashSet::new();
        for id in ids {
            let row = sqlx::query("SELECT team_id FROM tips WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
            if row.is_some_and(|r| r.try_get::<String, _>("team_id").is_ok_and(|team| team != team_id)) {
                found.insert(*id);
            }
        }
        Ok(found)
    }

    /// The team's latest sequence number.
    pub async fn last_seq(&self, team_id: &str) -> Result<Option<i64>, StoreError> {
        let row =
            sqlx::query("SELECT last_seq FROM teams WHERE id = $1").bind(team_id).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.try_get("last_seq")).transpose()?)
    }

    /// Adds imported tips, whole, in one transaction; members pull them like any change.
    /// A tip whose id is taken meanwhile (another import of the same file, by this team or
    /// another, committed first) is left out and named in [`Imported::taken`].
    pub async fn import(&self, team_id: &str, mut tips: Vec<SyncedTip>) -> Result<Imported, StoreError> {
        // Ids in one order for every import, so two imports of overlapping files wait for
        // each other instead of deadlocking.
        tips.sort_by_key(|t| t.tip.id);
        let mut tx = self.pool.begin().await?;
        lock_team(&mut tx, team_id).await?;
        let mut imported = Imported { last_seq: None, taken: Vec::new() };
        for tip in tips {
            let body = serde_json::to_string(&tip).map_err(StoreError::Encode)?;
            let seq = next_seq(&mut tx, team_id).await?;
            let written = sqlx::query(
                "INSERT INTO tips (id, team_id, seq, body) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
            )
            .bind(tip.tip.id.to_string())
            .bind(team_id)
            .bind(seq)
            .bind(body)
            .execute(&mut *tx)
            .await?;
            if written.rows_affected() == 1 {
                imported.last_seq = Some(seq);
            } else {
                imported.taken.push(tip.tip.id);
            }
        }
        announce(&mut tx, self.backend, team_id, imported.last_seq).await?;
        tx.commit().await?;
        Ok(imported)
    }

    /// The team's collections, by name.
    pub async fn collections(&self, team_id: &str) -> Result<Vec<Collection>, StoreError> {
        let rows =
            sqlx::query("SELECT body FROM collections WHERE team_id = $1").bind(team_id).fetch_all(&self.pool).await?;
        let mut collections = rows
            .iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                serde_json::from_str::<Collection>(&body).map_err(StoreError::Unreadable)
            })
            .collect::<Result<Vec<_>, _>>()?;
        collections.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        Ok(collections)
    }

    /// Creates or replaces a collection of `team_id`. `false` when the id belongs to
    /// another team's collection.
    pub async fn put_collection(&self, team_id: &str, collection: &Collection) -> Result<bool, StoreError> {
        let body = serde_json::to_string(collection).map_err(StoreError::Encode)?;
        let id = collection.id.to_string();
        let done = sqlx::query("INSERT INTO collections (id, team_id, body) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET body = excluded.body WHERE collections.team_id = excluded.team_id")
            .bind(&id)
            .bind(team_id)
            .bind(body)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Merges `record` into the member's record of its walkthrough (see
    /// [`inflow_core::walkthrough::Record::merge`]) and answers the merged record. A write
    /// that raced another (two devices of one member) is merged again on what won, so
    /// neither is lost, on SQLite and PostgreSQL alike.
    pub async fn merge_walkthrough_record(
        &self,
        team_id: &str,
        member_id: &str,
        record: &WalkthroughRecord,
    ) -> Result<WalkthroughRecord, StoreError> {
        let collection = record.collection.to_string();
        for _ in 0..16 {
            let stored =
                sqlx::query("SELECT body FROM walkthrough_records WHERE collection_id = $1 AND member_id = $2")
                    .bind(&collection)
                    .bind(member_id)
                    .fetch_optional(&self.pool)
                    .await?;
            let done = match stored {
                None => {
                    let body = serde_json::to_string(record).map_err(StoreError::Encode)?;
                    sqlx::query("INSERT INTO walkthrough_records (collection_id, member_id, team_id, body) VALUES ($1, $2, $3, $4) ON CONFLICT (collection_id, member_id) DO NOTHING")
                        .bind(&collection)
                        .bind(member_id)
                        .bind(team_id)
                        .bind(&body)
                        .execute(&self.pool)
                        .await?
                        .rows_affected()
                        == 1
                }
                Some(row) => {
                    let old: String = row.try_get("body")?;
                    let stored: WalkthroughRecord = serde_json::from_str(&old).map_err(StoreError::Unreadable)?;
                    let merged = stored.merge(record);
                    if merged == stored {
                        return Ok(merged);
                    }
                    let body = serde_json::to_string(&merged).map_err(StoreError::Encode)?;
                    // Only over what was read: a write that came between is merged again.
                    let written = sqlx::query("UPDATE walkthrough_records SET body = $1 WHERE collection_id = $2 AND member_id = $3 AND body = $4")
                        .bind(&body)
                        .bind(&collection)
                        .bind(member_id)
                        .bind(&old)
                        .execute(&self.pool)
                        .await?
                        .rows_affected();
                    if written == 1 {
                        return Ok(merged);
                    }
                    false
                }
            };
            if done {
                return Ok(record.clone());
            }
        }
        Err(StoreError::Contended)
    }

    /// Every member's record of a walkthrough of `team_id`, with the member's name.
    pub async fn walkthrough_records(
        &self,
        team_id: &str,
        collection: TipId,
    ) -> Result<Vec<(String, WalkthroughRecord)>, StoreError> {
        let rows = sqlx::query("SELECT m.name AS name, w.body AS body FROM walkthrough_records w JOIN members m ON m.id = w.member_id WHERE w.team_id = $1 AND w.collection_id = $2 ORDER BY m.name")
            .bind(team_id)
            .bind(collection.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                Ok((row.try_get("name")?, serde_json::from_str(&body).map_err(StoreError::Unreadable)?))
            })
            .collect()
    }

    /// Deletes a collection of `team_id`; `false` when there was none.
    pub async fn delete_collection(&self, team_id: &str, id: TipId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM collections WHERE id = $1 AND team_id = $2")
            .bind(id.to_string())
            .bind(team_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every tip of `team_id` (or of every team), for `inflow-server export`.
    pub async fn export(&self, team_id: Option<&str>) -> Result<Vec<serde_json::Value>, StoreError> {
        let rows = match team_id {
            Some(team) => {
                sqlx::query("SELECT team_id, seq, body FROM tips WHERE team_id = $1 ORDER BY seq")
                    .bind(team)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT team_id, seq, body FROM tips ORDER BY team_id, seq").fetch_all(&self.pool).await?
            }
        };
        rows.into_iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                let team: String = row.try_get("team_id")?;
                let tip = serde_json::Value::from_str(&body).map_err(StoreError::Unreadable)?;
                Ok(serde_json::json!({ "team": team, "tip": tip }))
            })
            .collect()
    }
}

/// Takes the team's row lock, first thing in a write: writes of one team then apply one
/// at a time and sequence numbers are handed out in commit order, so a pull never skips a
/// change that commits later. (On SQLite it takes the write lock up front.)
async fn lock_team(tx: &mut sqlx::Transaction<'_, sqlx::Any>, team_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE teams SET last_seq = last_seq WHERE id = $1").bind(team_id).execute(&mut **tx).await?;
    Ok(())
}

/// The team's next sequence number, under the lock [`lock_team`] took.
async fn next_seq(tx: &mut sqlx::Transaction<'_, sqlx::Any>, team_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE teams SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq")
        .bind(team_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get("last_seq")
}

/// On PostgreSQL, tells every listening instance of the team's new sequence when, and only
/// if, the transaction commits. (SQLite has one instance; the handler publishes in-process.)
async fn announce(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    team_id: &str,
    last_seq: Option<i64>,
) -> Result<(), sqlx::Error> {
    if let (Some(seq), Backend::Postgres) = (last_seq, backend) {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::events::CHANNEL)
            .bind(format!("{team_id}:{seq}"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// An exclusive lock on `<database>.migrating` (made if missing), held until the file is
/// dropped: the migrations of one SQLite database run in one process at a time.
async fn lock_beside(database: &std::path::Path) -> Result<std::fs::File, StoreError> {
    let mut name = database.as_os_str().to_owned();
    name.push(".migrating");
    let lock_path = std::path::PathBuf::from(name);
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path)?;
        file.lock()?; // waits for another instance's migrations to finish
        Ok(file)
    })
    .await
    .map_err(|e| StoreError::Database(sqlx::Error::Io(std::io::Error::other(e))))?
    .map_err(|e: std::io::Error| StoreError::Database(sqlx::Error::Io(e)))
}

/// How many database connections the server keeps: `INFLOW_DATABASE_CONNECTIONS`, else 4
/// on SQLite (one writes at a time anyway) and twice the CPU cores on PostgreSQL (more
/// connections than the cores can serve only queue inside the database: on 2 cores, 4
/// gave 654 sync cycles/s and 16 gave 516 in `cargo xtask bench server`).
fn connections(backend: Backend) -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    let default = if backend == Backend::Sqlite { 4 } else { (2 * cores).clamp(4, 64) };
    std::env::var("INFLOW_DATABASE_CONNECTIONS").ok().and_then(|n| n.parse().ok()).filter(|n| *n > 0).unwrap_or(default)
}

/// A new random id (UUIDv7, as tips use).
pub fn new_id() -> String {
    let mut random = [0u8; 10];
    // Without randomness there is no safe id; the time part alone still orders them.
    let _ = getrandom::fill(&mut random);
    TipId::new_v7(now_ms() as u64, random).to_string()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
