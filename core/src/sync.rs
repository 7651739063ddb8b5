//! The sync protocol's data and its merge rules, shared by the server and the extension.
//!
//! Every change is a [`Mutation`] with a client-generated id (so a retried push changes
//! nothing) and a hybrid logical clock. Tips merge field by field, last writer wins by
//! clock: note, tags, visibility and title each keep the clock of their last write, so two
//! people editing different fields both keep their edit. A delete is a tombstone that wins
//! over every field write older than it. Applying the same mutations in any order gives the
//! same tip.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::curation::{validate_member, Action, Curation, CurationError, Parts};
use crate::id::TipId;
use crate::model::{clean_tags, Reply, Tip, TipError, Visibility, MAX_AUTHOR_CHARS, MAX_NOTE_CHARS, MAX_TITLE_CHARS};
use crate::time::Timestamp;

/// The most mutations one push may carry.
pub const MAX_MUTATIONS_PER_PUSH: usize = 500;
/// The most changes one pull returns; the client pulls again while `more` is true.
pub const MAX_CHANGES_PER_PULL: u32 = 500;

/// A hybrid logical clock reading: wall time in milliseconds, a counter for events within
/// one millisecond, and the writing device's node number to break ties. Readings order
/// as tuples, and their text form sorts the same way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u32,
    pub node: u32,
}

/// How far ahead of the server's clock a device's clock may run. A mutation stamped later
/// is refused: it would order before nothing and after everything, and a time past the
/// year 9999 cannot even be written down.
pub const MAX_CLOCK_AHEAD_MS: u64 = 60 * 60 * 1000;

/// Why a mutation's clock reading is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this device's clock is {ahead_minutes} minutes ahead of the server's; set the device's date and time correctly, then sync again")]
pub struct ClockAhead {
    pub ahead_minutes: u64,
}

impl Hlc {
    /// Checks a reading against a receiver's clock (`now_ms`): at most
    /// [`MAX_CLOCK_AHEAD_MS`] ahead of it.
    pub fn check_against(self, now_ms: u64) -> Result<(), ClockAhead> {
        match self.wall_ms.checked_sub(now_ms) {
            Some(ahead) if ahead > MAX_CLOCK_AHEAD_MS => Err(ClockAhead { ahead_minutes: ahead / 60_000 }),
            _ => Ok(()),
        }
    }

    /// The next reading for a local event, given the last reading and the wall clock.
    pub fn tick(last: Hlc, now_ms: u64, node: u32) -> Hlc {
        if now_ms > last.wall_ms {
            Hlc { wall_ms: now_ms, counter: 0, node }
        } else {
            Hlc { wall_ms: last.wall_ms, counter: last.counter + 1, node }
        }
    }

    /// The next reading after receiving `remote`, so local events order after it.
    pub fn receive(last: Hlc, remote: Hlc, now_ms: u64, node: u32) -> Hlc {
        let wall_ms = now_ms.max(last.wall_ms).max(remote.wall_ms);
        let counter = match (wall_ms == last.wall_ms, wall_ms == remote.wall_ms) {
            (true, true) => last.counter.max(remote.counter) + 1,
            (true, false) => last.counter + 1,
            (false, true) => remote.counter + 1,
            (false, false) => 0,
        };
        Hlc { wall_ms, counter, node }
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:015}-{:08x}-{:08x}", self.wall_ms, self.counter, self.node)
    }
}

/// Why a string is not a clock reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a clock reading: expected 000001795427460123-00000000-0000abcd")]
pub struct ParseHlcError;

impl FromStr for Hlc {
    type Err = ParseHlcError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split('-');
        let (Some(wall), Some(counter), Some(node), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ParseHlcError);
        };
        if wall.len() != 15 || counter.len() != 8 || node.len() != 8 {
            return Err(ParseHlcError);
        }
        Ok(Hlc {
            wall_ms: wall.parse().map_err(|_| ParseHlcError)?,
            counter: u32::from_str_radix(counter, 16).map_err(|_| ParseHlcError)?,
            node: u32::from_str_radix(node, 16).map_err(|_| ParseHlcError)?,
        })
    }
}

serde_as_string!(Hlc);

/// One change to one tip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", deny_unknown_fields)]
pub enum Change {
    /// Create the tip, or merge it field by field into the one that exists.
    Put { tip: Box<Tip> },
    /// Set some fields of an existing tip.
    #[serde(rename_all = "camelCase")]
    Patch {
        tip_id: TipId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tags: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        visibility: Option<Visibility>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page_title: Option<String>,
    },
    /// Delete the tip (a tombstone).
    #[serde(rename_all = "camelCase")]
    Delete { tip_id: TipId },
    /// Add a teammate's reply.
    #[serde(rename_all = "camelCase")]
    Reply { tip_id: TipId, reply: Reply },
    /// Mark the tip helpful, or take the mark back, for the member `by`.
    #[serde(rename_all = "camelCase")]
    Helpful { tip_id: TipId, by: String, helpful: bool },
    /// A curation step taken by the member `by` (see [`crate::curation`]).
    #[serde(rename_all = "camelCase")]
    Curate { tip_id: TipId, by: String, step: Action },
}

impl Change {
    pub fn tip_id(&self) -> TipId {
        match self {
            Change::Put { tip } => tip.id,
            Change::Patch { tip_id, .. }
            | Change::Delete { tip_id }
            | Change::Reply { tip_id, .. }
            | Change::Helpful { tip_id, .. }
            | Change::Curate { tip_id, .. } => *tip_id,
        }
    }
}

/// A change with its identity and time. (Unknown fields are refused by [`Change`], which
/// receives every field but `id` and `hlc`; serde cannot deny them here through `flatten`.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mutation {
    /// Chosen by the client; pushing the same id twice applies it once.
    pub id: TipId,
    pub hlc: Hlc,
    #[serde(flatten)]
    pub change: Change,
}

/// When a field was last written: the clock, and the mutation's id to order two writes
/// that claim the same clock reading (honest devices never do; the server cannot assume it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamp {
    pub hlc: Hlc,
    pub by: TipId,
}

/// The stamp of each mergeable field's last write. The curation parts have none until a
/// curation step writes them (tips stored before curation existed read as never written).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldClocks {
    pub note: Stamp,
    pub tags: Stamp,
    pub visibility: Stamp,
    pub page_title: Stamp,
    /// Curation status with its verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Stamp>,
    /// The curator's title and summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wording: Option<Stamp>,
    /// The review flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Stamp>,
}

impl FieldClocks {
    fn all(stamp: Stamp) -> Self {
        FieldClocks {
            note: stamp,
            tags: stamp,
            visibility: stamp,
            page_title: stamp,
            status: None,
            wording: None,
            review: None,
        }
    }

    fn latest(&self) -> Stamp {
        let curated = self.status.max(self.wording).max(self.review);
        let edited = self.note.max(self.tags).max(self.visibility).max(self.page_title);
        curated.map_or(edited, |c| c.max(edited))
    }
}

/// A member's latest "helpful" mark on a tip, and when it was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpfulMark {
    pub helpful: bool,
    pub at: Stamp,
}

/// A tip as sync keeps it: its fields, when each was last written, its members' helpful
/// marks, and its tombstone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncedTip {
    pub tip: Tip,
    pub clocks: FieldClocks,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub marks: std::collections::BTreeMap<String, HelpfulMark>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Stamp>,
}

impl SyncedTip {
    /// Whether the tombstone is newer than every field write.
    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some_and(|d| d > self.clocks.latest())
    }
}

/// A tip brought in whole by an import (see [`crate::import`]): every part, replies,
/// helpful marks and curation included, written at `stamp`.
pub fn imported(tip: Tip, stamp: Stamp) -> SyncedTip {
    let curated = (!tip.curation.is_untouched()).then_some(stamp);
    let marks = tip.helpful.iter().map(|name| (name.clone(), HelpfulMark { helpful: true, at: stamp })).collect();
    let clocks = FieldClocks { status: curated, wording: curated, review: curated, ..FieldClocks::all(stamp) };
    SyncedTip { tip, clocks, marks, deleted: None }
}

/// Why a mutation cannot be applied. Messages are shown to API clients as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("tip {0} does not exist; push it with op \"put\" first")]
    UnknownTip(TipId),
    #[error("tip {id}'s identity cannot change: {field} differs from the stored tip")]
    Immutable { id: TipId, field: &'static str },
    #[error("invalid tip: {0}")]
    Invalid(#[from] TipError),
    #[error("{0}")]
    Curation(#[from] CurationError),
}

/// Applies one mutation to the stored state of its tip (`None` if there is none yet).
pub fn apply(existing: Option<SyncedTip>, mutation: &Mutation) -> Result<SyncedTip, MergeError> {
    let hlc = Stamp { hlc: mutation.hlc, by: mutation.id };
    match (&mutation.change, existing) {
        (Change::Put { tip }, None) => {
            tip.validate()?;
            // Replies, marks and curation arrive by their own mutations, never inside a new tip.
            let tip =
                Tip { replies: Vec::new(), helpful: Vec::new(), curation: Curation::default(), ..(**tip).clone() };
            Ok(SyncedTip { tip, clocks: FieldClocks::all(hlc), marks: Default::default(), deleted: None })
        }
        (Change::Put { tip }, Some(mut stored)) => {
            tip.validate()?;
            for (field, same) in [
                ("author", tip.author == stored.tip.author),
                ("target", tip.target == stored.tip.target),
                ("created", tip.created == stored.tip.created),
            ] {
                if !same {
                    return Err(MergeError::Immutable { id: tip.id, field });
                }
            }
            merge_field(&mut stored.tip.note, &mut stored.clocks.note, &tip.note, hlc);
            merge_field(&mut stored.tip.tags, &mut stored.clocks.tags, &tip.tags, hlc);
            merge_field(&mut stored.tip.visibility, &mut stored.clocks.visibility, &tip.visibility, hlc);
            merge_field(&mut stored.tip.page_title, &mut stored.clocks.page_title, &tip.page_title, hlc);
            stored.tip.modified = stored.tip.modified.max(tip.modified);
            Ok(stored)
        }
        (
            Change::Patch { tip_id, .. }
            | Change::Delete { tip_id }
            | Change::Reply { tip_id, .. }
            | Change::Helpful { tip_id, .. }
            | Change::Curate { tip_id, .. },
            None,
        ) => Err(MergeError::UnknownTip(*tip_id)),
        (Change::Patch { note, tags, visibility, page_title, .. }, Some(mut stored)) => {
            if let Some(note) = note {
                if note.chars().count() > MAX_NOTE_CHARS {
                    return Err(TipError::NoteTooLong { chars: note.chars().count() }.into());
                }
                merge_field(&mut stored.tip.note, &mut stored.clocks.note, note, hlc);
            }
            if let Some(tags) = tags {
                merge_field(&mut stored.tip.tags, &mut stored.clocks.tags, &clean_tags(tags)?, hlc);
            }
            if let Some(visibility) = visibility {
                merge_field(&mut stored.tip.visibility, &mut stored.clocks.visibility, visibility, hlc);
            }
            if let Some(title) = page_title {
                let title: String = title.trim().chars().take(MAX_TITLE_CHARS).collect();
                merge_field(&mut stored.tip.page_title, &mut stored.clocks.page_title, &title, hlc);
            }
            stored.tip.modified = stored.tip.modified.max(Timestamp(hlc.hlc.wall_ms as i64));
            Ok(stored)
        }
        (Change::Delete { .. }, Some(mut stored)) => {
            stored.deleted = Some(stored.deleted.map_or(hlc, |d| d.max(hlc)));
            Ok(stored)
        }
        (Change::Reply { reply, .. }, Some(mut stored)) => {
            stored.tip.add_reply(reply.clone())?;
            Ok(stored)
        }
        (Change::Helpful { by, helpful, .. }, Some(mut stored)) => {
            if by.trim().is_empty() || by.chars().count() > MAX_AUTHOR_CHARS {
                return Err(TipError::BadAuthor.into());
            }
            // Each member's last mark wins.
            let mark = HelpfulMark { helpful: *helpful, at: hlc };
            let newer = stored.marks.get(by).is_none_or(|old| hlc > old.at);
            if newer {
                stored.marks.insert(by.clone(), mark);
                stored.tip.set_helpful(by, *helpful);
            }
            Ok(stored)
        }
        (Change::Curate { by, step, .. }, Some(mut stored)) => {
            curate(&mut stored, by, step, hlc)?;
            Ok(stored)
        }
    }
}

/// Applies a curation step. Only the step's own values are checked here (the same on
/// every copy, whenever it arrives); who may take it, and whether it suits the tip's
/// state, is the server's check (see [`crate::curation::Action::allowed`]).
fn curate(stored: &mut SyncedTip, by: &str, step: &Action, hlc: Stamp) -> Result<(), MergeError> {
    validate_member(by)?;
    step.check()?;
    let at = Timestamp(hlc.hlc.wall_ms as i64);
    let parts = step.writes();
    let clocks = &mut stored.clocks;
    let won = Parts {
        status: parts.status && wins(&mut clocks.status, hlc),
        review: parts.review && wins(&mut clocks.review, hlc),
        wording: parts.wording && wins(&mut clocks.wording, hlc),
    };
    stored.tip.curation.take_step(by, step, at, hlc.by, won);
    Ok(())
}

/// Last writer wins for a curation part, whose clock is `None` until first written:
/// whether the write at `hlc` wins (and the clock moves to it).
fn wins(clock: &mut Option<Stamp>, hlc: Stamp) -> bool {
    let newer = Some(hlc) > *clock;
    if newer {
        *clock = Some(hlc);
    }
    newer
}

/// Last writer wins: take `value` if it was written after the field's current value.
/// Equal stamps come from one mutation, so the value is the same either way.
fn merge_field<T: Clone>(field: &mut T, clock: &mut Stamp, value: &T, hlc: Stamp) {
    if hlc > *clock {
        *field = value.clone();
        *clock = hlc;
    }
}

/// A push and a pull in one round trip.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// Where the last pull ended; absent for the first pull.
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub mutations: Vec<Mutation>,
    /// How many changes to pull at most (capped at [`MAX_CHANGES_PER_PULL`]).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// What the server answers to a [`SyncRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncResponse {
    /// Ids of the pushed mutations now durable on the server (including ones it had
    /// already applied before).
    pub acked: Vec<TipId>,
    /// Tips changed since the cursor, in the order the server applied the changes.
    pub changes: Vec<SyncedTip>,
    /// Pass this back to pull what comes next.
    pub cursor: String,
    /// Whether more changes are waiting beyond `limit`.
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewTip, Selector};
    use proptest::prelude::*;

    fn tip(id: u8) -> Tip {
        NewTip {
            page_url: "http://127.0.0.1:8700/patients/1/orders".into(),
            page_title: "Orders".into(),
            note: "first".into(),
            tags: vec!["orders".into()],
            visibility: Visibility::Team,
            selectors: vec![Selector::TextQuote {
                exact: "Heparin".into(),
                prefix: String::new(),
                suffix: String::new(),
                block: None,
            }],
        }
        .into_tip(TipId::new_v7(1, [id; 10]), "Dana", Timestamp(1_000))
        .expect("valid")
    }

    fn at(ms: u64, node: u32) -> Hlc {
        Hlc { wall_ms: ms, counter: 0, node }
    }

    fn mutation(n: u8, hlc: Hlc, change: Change) -> Mutation {
        Mutation { id: TipId::new_v7(2, [n; 10]), hlc, change }
    }

    #[test]
    fn clock_text_sorts_like_the_clock() {
        let readings = [
            at(5, 1),
            Hlc { wall_ms: 5, counter: 2, node: 0 },
            at(6, 0),
            Hlc { wall_ms: 100_000_000, counter: 0, node: 9 },
        ];
        let texts: Vec<String> = readings.iter().map(Hlc::to_string).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
        assert_eq!(texts[1].parse::<Hlc>(), Ok(readings[1]));
        assert!("123".parse::<Hlc>().is_err());
    }

    #[test]
    fn clocks_move_forward_past_what_they_receive() {
        let last = at(100, 1);
        assert_eq!(
            Hlc::tick(last, 90, 1),
            Hlc { wall_ms: 100, counter: 1, node: 1 },
            "a clock going backwards does not go back"
        );
        let after = Hlc::receive(last, Hlc { wall_ms: 200, counter: 3, node: 2 }, 150, 1);
        assert!(after > Hlc { wall_ms: 200, counter: 3, node: 2 });
    }

    #[test]
    fn mutations_travel_as_flat_json_and_refuse_unknown_fields() {
        let delete = mutation(1, at(10, 1), Change::Delete { tip_id: tip(1).id });
        let json = serde_json::to_value(&delete).expect("encodes");
        assert_eq!(json["op"], "delete");
        assert_eq!(json["hlc"], "000000000000010-00000000-00000001");
        assert_eq!(serde_json::from_value::<Mutation>(json.clone()).expect("decodes"), delete);
        let mut extra = json;
        extra["admin"] = serde_json::json!(true);
        assert!(serde_json::from_value::<Mutation>(extra).is_err());
    }

    #[test]
    fn concurrent_edits_of_different_fields_both_survive() {
        let created = apply(None, &mutation(1, at(10, 1), Change::Put { tip: Box::new(tip(1)) })).expect("created");
        let note = mutation(
            2,
            at(20, 1),
            Change::Patch {
                tip_id: tip(1).id,
                note: Some("A's note".into()),
                tags: None,
                visibility: None,
                page_title: None,
            },
        );
        let tags = mutation(
            3,
            at(21, 2),
            Change::Patch {
                tip_id: tip(1).id,
                note: None,
                tags: Some(vec!["labs".into()]),
                visibility: None,
                page_title: None,
            },
        );
        let merged = apply(Some(apply(Some(created), &tags).expect("tags")), &note).expect("note");
        assert_eq!(merged.tip.note, "A's note");
        assert_eq!(merged.tip.tags, vec!["labs"]);
    }

    #[test]
    fn identity_cannot_be_rewritten_and_unknown_tips_cannot_be_patched() {
        let created = apply(None, &mutation(1, at(10, 1), Change::Put { tip: Box::new(tip(1)) })).expect("created");
        let mut impostor = tip(1);
        impostor.author = "Mallory".into();
        let err = apply(Some(created), &mutation(2, at(20, 2), Change::Put { tip: Box::new(impostor) }));
        assert_eq!(err, Err(MergeError::Immutable { id: tip(1).id, field: "author" }));
        let patch = mutation(3, at(5, 1), Change::Delete { tip_id: tip(9).id });
        assert_eq!(apply(None, &patch), Err(MergeError::UnknownTip(tip(9).id)));
    }

    #[test]
    fn replies_gather_once_each_and_helpful_marks_keep_each_members_last_word() {
        let created = apply(None, &mutation(1, at(10, 1), Change::Put { tip: Box::new(tip(1)) })).expect("created");
        let reply = |n: u8, ms: i64| Reply {
            id: TipId::new_v7(ms as u64, [n; 10]),
            author: "Sam".into(),
            created: Timestamp(ms),
            text: format!("Thanks {n}"),
        };
        let later = mutation(2, at(20, 2), Change::Reply { tip_id: tip(1).id, reply: reply(2, 300) });
        let earlier = mutation(3, at(21, 2), Change::Reply { tip_id: tip(1).id, reply: reply(1, 200) });
        let state = [&later, &earlier, &later].iter().fold(created, |s, m| apply(Some(s), m).expect("reply"));
        assert_eq!(
            state.tip.replies.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(),
            vec!["Thanks 1", "Thanks 2"],
            "in time order, once each"
        );
        let mark = |n: u8, ms: u64, helpful: bool| {
            mutation(n, at(ms, 3), Change::Helpful { tip_id: tip(1).id, by: "Sam".into(), helpful })
        };
        let marked = apply(Some(apply(Some(state.clone()), &mark(5, 40, false)).expect("unmark")), &mark(4, 30, true))
            .expect("mark");
        assert!(marked.tip.helpful.is_empty(), "the later unmark wins even when it arrives first");
        let marked = apply(Some(state), &mark(6, 50, true)).expect("mark");
        assert_eq!(marked.tip.helpful, vec!["Sam"]);
        let empty = mutation(
            7,
            at(60, 3),
            Change::Reply { tip_id: tip(1).id, reply: Reply { text: "  ".into(), ..reply(3, 400) } },
        );
        assert_eq!(apply(Some(marked), &empty), Err(MergeError::Invalid(TipError::EmptyReply)));
    }

    #[test]
    fn curation_steps_merge_by_part_and_keep_their_history() {
        use crate::curation::{Action, Status};
        let created = apply(None, &mutation(1, at(10, 1), Change::Put { tip: Box::new(tip(1)) })).expect("created");
        let step = |n: u8, ms: u64, by: &str, step: Action| {
            mutation(n, at(ms, 1), Change::Curate { tip_id: tip(1).id, by: by.into(), step })
        };
        let flagged = apply(
            Some(created),
            &step(2, 20, "Sam", Action::Flag { reason: "quote not found on its own page".into() }),
        )
        .expect("flag");
        assert!(flagged.tip.curation.needs_review.is_some());
        let approve = step(3, 30, "Dana", Action::Approve { verify_by: Timestamp(90_000) });
        let reword = step(
            4,
            25,
            "Dana",
            Action::Reword { title: " Order sets after the upgrade ".into(), summary: "Favourites".into() },
        );
        let state = apply(Some(apply(Some(flagged), &approve).expect("approve")), &reword).expect("reword");
        let curation = &state.tip.curation;
        assert_eq!(curation.status, Status::Approved);
        assert_eq!(curation.verified.as_ref().map(|v| (v.by.as_str(), v.verify_by)), Some(("Dana", Timestamp(90_000))));
        assert_eq!(curation.needs_review, None, "approving answers the flag");
        assert_eq!(curation.title, "Order sets after the upgrade", "trimmed");
        assert_eq!(state.tip.note, "first", "the author's note stays as written");
        let history: Vec<&str> = curation.history.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(
            history,
            vec![
                "flagged for review: quote not found on its own page",
                "titled it \u{201c}Order sets after the upgrade\u{201d}",
                "approved; verify again by 1970-01-01"
            ]
        );
        let older_retire = step(5, 15, "Dana", Action::Retire);
        assert_eq!(
            apply(Some(state.clone()), &older_retire).expect("retire").tip.curation.status,
            Status::Approved,
            "an older step loses"
        );
        let blank = step(6, 40, "Sam", Action::Flag { reason: " ".into() });
        assert!(matches!(apply(Some(state), &blank), Err(MergeError::Curation(_))));
    }

    fn arbitrary_mutations() -> impl Strategy<Value = Vec<Mutation>> {
        let change = prop_oneof![
            (0u8..3).prop_map(|n| Change::Patch {
                tip_id: tip(1).id,
                note: Some(format!("note {n}")),
                tags: None,
                visibility: None,
                page_title: None
            }),
            (0u8..3).prop_map(|n| Change::Patch {
                tip_id: tip(1).id,
                note: None,
                tags: Some(vec![format!("t{n}")]),
                visibility: None,
                page_title: None
            }),
            any::<bool>().prop_map(|team| Change::Patch {
                tip_id: tip(1).id,
                note: None,
                tags: None,
                visibility: Some(if team { Visibility::Team } else { Visibility::Private }),
                page_title: None
            }),
            Just(Change::Delete { tip_id: tip(1).id }),
            (0u8..4, 0u64..3).prop_map(|(n, at)| Change::Reply {
                tip_id: tip(1).id,
                reply: Reply {
                    id: TipId::new_v7(50 + at, [n; 10]),
                    author: format!("Member {n}"),
                    created: Timestamp(50 + at as i64),
                    text: format!("reply {n}")
                },
            }),
            (0u8..3, any::<bool>()).prop_map(|(n, helpful)| Change::Helpful {
                tip_id: tip(1).id,
                by: format!("Member {n}"),
                helpful
            }),
            (0u8..7, 0u8..3).prop_map(|(kind, n)| Change::Curate {
                tip_id: tip(1).id,
                by: format!("Curator {n}"),
                step: match kind {
                    0 => Action::Propose,
                    1 => Action::Approve { verify_by: Timestamp(10_000 + n as i64) },
                    2 => Action::Retire,
                    3 => Action::Reopen,
                    4 => Action::Reword { title: format!("Title {n}"), summary: String::new() },
                    5 => Action::Flag { reason: format!("moved {n}") },
                    _ => Action::Unflag,
                },
            }),
        ];
        proptest::collection::vec((1u64..50, 0u32..3, change), 0..12).prop_map(|items| {
            items
                .into_iter()
                .enumerate()
                .map(|(i, (ms, node, change))| mutation(10 + i as u8, at(100 + ms, node), change))
                .collect()
        })
    }

    proptest! {
        /// Every order of the same mutations yields the same tip.
        #[test]
        fn merges_converge_in_any_order(mutations in arbitrary_mutations(), seed in any::<u64>()) {
            let create = mutation(1, at(1, 0), Change::Put { tip: Box::new(tip(1)) });
            let run = |order: &[Mutation]| order.iter().fold(apply(None, &create).expect("created"), |state, m| apply(Some(state), m).expect("applies"));
            let forward = run(&mutations);
            let mut shuffled = mutations.clone();
            let mut state = seed;
            for i in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                shuffled.swap(i, (state >> 33) as usize % (i + 1));
            }
            prop_assert_eq!(run(&shuffled), forward);
        }
    }
}
