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
use tokio_stream::wrappers::BroadcastStream;
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
                        eprintln!("LISTEN {CHANNEL} failed: {e}");
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
                Err(e) => eprintln!("cannot listen for other instances' changes: {e}"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

pub async fn events(
    State(state): State<AppState>,
    member: Member,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    crate::metrics::Metrics::add(&state.metrics.event_streams_opened, 1);
    let team = member.team_id.clone();
    let changes = BroadcastStream::new(state.hub.subscribe()).filter_map(move |change| match change {
        Ok(change) if change.team_id == team => {
            Some(Ok(Event::default().event("change").data(format!("{{\"seq\":{}}}", change.seq))))
        }
        Ok(_) => None,
        // Fell behind: tell the client to pull, which catches it up.
        Err(_) => Some(Ok(Event::default().event("change").data("{}"))),
    });
    let hello = tokio_stream::once(Ok(Event::default().event("ready").data("{}")));
    Sse::new(hello.chain(changes)).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}
