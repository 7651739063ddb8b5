//! `GET /v1/events`: a team's changes as Server-Sent Events, so open side panels learn of
//! new tips at once and pull them. Each event says only "the team's sequence reached N";
//! the data itself always comes through `/v1/sync`, with its checks.
//!
//! One instance fans changes out in-process. On PostgreSQL, every instance announces its
//! commits with `NOTIFY` and relays what it hears with `LISTEN`, so a push through one
//! instance reaches listeners connected to another.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast;
use tokio_stream::StreamExt;

use crate::auth::Member;
use crate::AppState;

/// The PostgreSQL channel instances announce commits on.
pub const CHANNEL: &str = "inflow_changes";

/// A team's sequence moved forward.
#[derive(Clone, Debug)]
pub struct TeamChanged {
    pub team_id: String,
    pub seq: i64,
}

/// Fans changes out to this instance's listeners.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<TeamChanged>,
}

impl Default for Hub {
    fn default() -> Self {
        // A listener that falls this far behind skips to the newest event; since events
        // only say "pull now", nothing is lost by skipping.
        Hub { sender: broadcast::channel(1024).0 }
    }
}

impl Hub {
    pub fn publish(&self, change: TeamChanged) {
        let _ = self.sender.send(change); // no listener: nobody to tell
    }

    fn subscribe(&self) -> broadcast::Receiver<TeamChanged> {
        self.sender.subscribe()
    }
}

/// Relays NOTIFYs from every instance sharing the PostgreSQL database into `hub`,
/// reconnecting after a lost connection.
pub fn relay_postgres_notifications(url: String, hub: Hub) {
    tokio::spawn(async move {
        loop {
            match sqlx::postgres::PgListener::connect(&url).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen(CHANNEL).await {
                        tracing::warn!("LISTEN {CHANNEL} failed: {e}");
                    } else {
                        while let Ok(notification) = listener.recv().await {
                            if let Some((team_id, seq)) = notification.payload().rsplit_once(':') {
                                if let Ok(seq) = seq.parse() {
                                    hub.publish(TeamChanged { team_id: team_id.to_owned(), seq });
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!("cannot listen for other instances' changes: {e}"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// How often an open stream makes sure its member may still listen. A member revoked (or
/// given a new token) from the command line, which may run in another process, loses the
/// stream within this time.
pub const SIGN_IN_RECHECK: Duration = Duration::from_secs(5);

/// A change event is passed on only if the member was found signed in this recently, else
/// after checking again: a revoked member hears nothing once this time has passed, and a
/// busy team's open panels do not each ask the database at every push.
pub const EVENT_RECHECK: Duration = Duration::from_secs(1);

/// An open stream: the team's changes, and what it needs to check its member again.
struct Listener {
    changes: broadcast::Receiver<TeamChanged>,
    recheck: tokio::time::Interval,
    db: crate::db::Db,
    member: Member,
    token_hash: String,
    /// When the member was last found signed in.
    checked: tokio::time::Instant,
}

impl Listener {
    /// Whether the member still holds the token the stream was opened with. A database
    /// that cannot answer closes the stream too: the client reconnects, and is asked again.
    async fn still_signed_in(&mut self) -> bool {
        let signed_in = matches!(self.db.member_for_auth(&self.member.id).await,
            Ok(Some(stored)) if !stored.revoked && stored.token_hash == self.token_hash);
        if signed_in {
            self.checked = tokio::time::Instant::now();
        }
        signed_in
    }

    /// The next event for this member, or `None` when the stream ends.
    async fn next(&mut self) -> Option<Event> {
        loop {
            let event = tokio::select! {
                change = self.changes.recv() => match change {
                    Ok(change) if change.team_id == self.member.team_id => {
                        Event::default().event("change").data(format!("{{\"seq\":{}}}", change.seq))
                    }
                    Ok(_) => continue,
                    // Fell behind: tell the client to pull, which catches it up.
                    Err(broadcast::error::RecvError::Lagged(_)) => Event::default().event("change").data("{}"),
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.recheck.tick() => {
                    if self.still_signed_in().await { continue } else { return None }
                }
            };
            let fresh = self.checked.elapsed() < EVENT_RECHECK;
            return (fresh || self.still_signed_in().await).then_some(event);
        }
    }
}

pub async fn events(
    State(state): State<AppState>,
    member: Member,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, crate::error::ApiError> {
    crate::metrics::Metrics::add(&state.metrics.event_streams_opened, 1);
    let token_hash = state.db.member_for_auth(&member.id).await?.map(|stored| stored.token_hash).unwrap_or_default();
    let listener = Listener {
        changes: state.hub.subscribe(),
        recheck: tokio::time::interval_at(tokio::time::Instant::now() + SIGN_IN_RECHECK, SIGN_IN_RECHECK),
        db: state.db.clone(),
        member,
        token_hash,
        checked: tokio::time::Instant::now(),
    };
    let changes = futures_util::stream::unfold(listener, |mut listener| async move {
        let event = listener.next().await?;
        Some((Ok(event), listener))
    });
    let hello = tokio_stream::once(Ok(Event::default().event("ready").data("{}")));
    Ok(Sse::new(hello.chain(changes)).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}
