//! Curation: how a shared tip becomes team learning material, and who may move it there.
//!
//! A shared tip is proposed (by anyone on the team), approved by a curator (verified, with
//! a date by which it must be verified again), or retired. A tip whose anchor fails on the
//! very page it was captured on is flagged "needs review" automatically: the app changed
//! under it. Curators may give a tip a title and a summary of their own; the author's note
//! stays as written. Every curation step is kept in the tip's history.
//!
//! The same rules run in the server (which refuses what a member's role does not allow)
//! and in the side panel (which offers only what the server will accept).

use serde::{Deserialize, Serialize};

use crate::id::TipId;
use crate::model::{truncate_chars, TipError, MAX_AUTHOR_CHARS, MAX_TITLE_CHARS};
use crate::time::Timestamp;

/// The longest curator summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2_000;
/// The longest reason a tip needs review, in characters.
pub const MAX_REASON_CHARS: usize = 300;
/// Curation steps kept per tip (the newest).
pub const MAX_HISTORY: usize = 100;
/// Verify again within a year at most: knowledge of an app ages with the app.
pub const MAX_VERIFY_DAYS: i64 = 366;
/// The verification interval the panel proposes.
pub const DEFAULT_VERIFY_DAYS: i64 = 90;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A member's role in a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Curator,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "member" => Some(Role::Member),
            "curator" => Some(Role::Curator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Curator => "curator",
            Role::Admin => "admin",
        }
    }

    /// Curators and admins curate.
    pub fn curates(self) -> bool {
        matches!(self, Role::Curator | Role::Admin)
    }
}

/// Where a tip stands in curation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Shared with the team, not yet looked at.
    #[default]
    Shared,
    /// Put forward for approval.
    Proposed,
    /// Verified by a curator (see [`Verification`]).
    Approved,
    /// No longer true or useful; kept for the record, left out of exports.
    Retired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Shared => "shared",
            Status::Proposed => "proposed",
            Status::Approved => "approved",
            Status::Retired => "retired",
        }
    }
}

/// Who verified an approved tip, when, and when it must be verified again.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Verification {
    pub by: String,
    pub at: Timestamp,
    pub verify_by: Timestamp,
}

/// Why a tip needs a curator's look, and since when.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewFlag {
    pub since: Timestamp,
    pub reason: String,
}

/// One curation step, as the history shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurationEvent {
    /// The mutation that made the step: the same step is recorded once.
    pub id: TipId,
    pub at: Timestamp,
    pub by: String,
    pub what: String,
}

/// A tip's curation state. Each part merges on its own (see [`crate::sync`]): the status
/// with its verification, the curator's wording, the review flag; the history is the union
/// of every copy's steps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Curation {
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<Verification>,
    /// The curator's title; empty when there is none (the export uses the note's start).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_review: Option<ReviewFlag>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<CurationEvent>,
}

impl Curation {
    /// Nothing has happened to the tip yet (what a new tip has).
    pub fn is_untouched(&self) -> bool {
        *self == Curation::default()
    }

    /// An approved tip whose verification has run out.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.status == Status::Approved && self.verified.as_ref().is_none_or(|v| v.verify_by <= now)
    }

    /// Whether a curator should look at the tip: proposed, flagged, or due for verification.
    pub fn wants_curator(&self, now: Timestamp) -> bool {
        self.status == Status::Proposed || self.needs_review.is_some() || self.is_due(now)
    }

    /// Records a step unless it is there already, keeping the newest [`MAX_HISTORY`] in
    /// time order: the same history whatever order steps arrive in.
    pub fn record(&mut self, event: CurationEvent) {
        if self.history.iter().any(|e| e.id == event.id) {
            return;
        }
        self.history.push(event);
        self.history.sort_by_key(|e| (e.at, e.id));
        let excess = self.history.len().saturating_sub(MAX_HISTORY);
        self.history.drain(..excess);
    }
}

/// The parts of a tip's curation a step writes; each merges on its own clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    /// The status with its verification.
    pub status: bool,
    /// The review flag.
    pub review: bool,
    /// The curator's title and summary.
    pub wording: bool,
}

impl Parts {
    pub const ALL: Parts = Parts { status: true, review: true, wording: true };
}

impl Curation {
    /// Takes `step` (made by `by` at `at`, recorded under `id`), writing only the parts in
    /// `writes`: sync passes the parts whose clocks the step won; a device taking a step
    /// itself passes [`Parts::ALL`].
    pub fn take_step(&mut self, by: &str, step: &Action, at: Timestamp, id: TipId, writes: Parts) {
        let status = match step {
            Action::Propose => Some((Status::Proposed, None)),
            Action::Retire => Some((Status::Retired, None)),
            Action::Reopen => Some((Status::Shared, None)),
            Action::Approve { verify_by } => {
                Some((Status::Approved, Some(Verification { by: by.to_owned(), at, verify_by: *verify_by })))
            }
            _ => None,
        };
        if let (Some((status, verified)), true) = (status, writes.status) {
            self.status = status;
            self.verified = verified;
        }
        // Verifying a tip answers its review flag.
        let review = match step {
            Action::Flag { reason } => {
                Some(Some(ReviewFlag { since: at, reason: truncate_chars(reason.trim(), MAX_REASON_CHARS) }))
            }
            Action::Unflag | Action::Approve { .. } => Some(None),
            _ => None,
        };
        if let (Some(flag), true) = (review, writes.review) {
            self.needs_review = flag;
        }
        if let (Action::Reword { title, summary }, true) = (step, writes.wording) {
            self.title = title.trim().to_owned();
            self.summary = summary.trim().to_owned();
        }
        self.record(CurationEvent { id, at, by: by.to_owned(), what: step.describe() });
    }
}

/// A curation step a member asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase", deny_unknown_fields)]
pub enum Action {
    /// Put the tip forward for approval.
    Propose,
    /// Verify the tip, to be verified again by `verify_by`. Clears a review flag.
    #[serde(rename_all = "camelCase")]
    Approve { verify_by: Timestamp },
    /// Take the tip out of circulation.
    Retire,
    /// Back to plain shared (undoes a proposal, an approval or a retirement).
    Reopen,
    /// Set the curator's title and summary (empty clears them).
    Reword { title: String, summary: String },
    /// Ask curators to look at the tip.
    Flag { reason: String },
    /// The curator looked; the flag goes.
    Unflag,
}

/// Why a curation step is refused. Messages are shown to the user as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurationError {
    #[error("only curators can {0}; ask a curator of your team")]
    NotCurator(&'static str),
    #[error("private tips cannot be curated; share the tip with the team first")]
    Private,
    #[error("the verify-again date must be after today and within {MAX_VERIFY_DAYS} days")]
    BadVerifyDate,
    #[error("the title is longer than {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("the summary is longer than {MAX_SUMMARY_CHARS} characters")]
    SummaryTooLong,
    #[error("say why the tip needs review (at most {MAX_REASON_CHARS} characters)")]
    BadReason,
    #[error("a retired tip cannot be proposed; a curator can reopen it")]
    Retired,
    #[error(transparent)]
    Tip(#[from] TipError),
}

impl Action {
    /// What the step does, in the words the history and error messages use.
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Propose => "propose",
            Action::Approve { .. } => "approve",
            Action::Retire => "retire",
            Action::Reopen => "reopen",
            Action::Reword { .. } => "reword",
            Action::Flag { .. } => "flag for review",
            Action::Unflag => "clear the review flag",
        }
    }

    /// The parts of the curation this step writes.
    pub fn writes(&self) -> Parts {
        Parts {
            status: matches!(self, Action::Propose | Action::Approve { .. } | Action::Retire | Action::Reopen),
            review: matches!(self, Action::Flag { .. } | Action::Unflag | Action::Approve { .. }),
            wording: matches!(self, Action::Reword { .. }),
        }
    }

    /// Whether `role` may take this step at all. Anyone on the team proposes and flags;
    /// the rest is curators' work.
    pub fn allowed(&self, role: Role) -> Result<(), CurationError> {
        match self {
            Action::Propose | Action::Flag { .. } => Ok(()),
            _ if role.curates() => Ok(()),
            _ => Err(CurationError::NotCurator(self.verb())),
        }
    }

    /// Checks the step as it is asked for at `now`: its own values, and a verify-again
    /// date after `now` and within [`MAX_VERIFY_DAYS`].
    pub fn validate(&self, now: Timestamp) -> Result<(), CurationError> {
        match self {
            Action::Approve { verify_by } if *verify_by <= now || verify_by.0 - now.0 > MAX_VERIFY_DAYS * DAY_MS => {
                Err(CurationError::BadVerifyDate)
            }
            _ => self.check(),
        }
    }

    /// Checks the step's own values, whenever it is applied: what every copy of a tip
    /// checks alike, so copies converge.
    pub fn check(&self) -> Result<(), CurationError> {
        match self {
            Action::Reword { title, .. } if title.chars().count() > MAX_TITLE_CHARS => Err(CurationError::TitleTooLong),
            Action::Reword { summary, .. } if summary.chars().count() > MAX_SUMMARY_CHARS => {
                Err(CurationError::SummaryTooLong)
            }
            Action::Flag { reason } if reason.trim().is_empty() || reason.chars().count() > MAX_REASON_CHARS => {
                Err(CurationError::BadReason)
            }
            _ => Ok(()),
        }
    }

    /// The history line for this step.
    pub fn describe(&self) -> String {
        match self {
            Action::Propose => "proposed".into(),
            Action::Approve { verify_by } => format!("approved; verify again by {}", &verify_by.to_string()[..10]),
            Action::Retire => "retired".into(),
            Action::Reopen => "reopened".into(),
            Action::Reword { title, .. } if title.trim().is_empty() => "cleared the title and summary".into(),
            Action::Reword { title, .. } => format!("titled it \u{201c}{}\u{201d}", truncate_chars(title.trim(), 80)),
            Action::Flag { reason } => format!("flagged for review: {}", truncate_chars(reason, 120)),
            Action::Unflag => "cleared the review flag".into(),
        }
    }
}

/// The longest collection name, in characters.
pub const MAX_COLLECTION_NAME_CHARS: usize = 200;
/// The most tips one collection gathers.
pub const MAX_COLLECTION_TIPS: usize = 1_000;

/// A curator's named, ordered gathering of tips ("Orders module after the March upgrade"):
/// what a course or a tip sheet is made from. Only curators make and change collections.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collection {
    pub id: TipId,
    pub name: String,
    /// The tips, in the order the collection presents them.
    pub tips: Vec<TipId>,
    pub updated: Timestamp,
    /// Who changed it last.
    pub by: String,
    /// Played as a walkthrough on the real screens (see [`Walkthrough`]), if the curator
    /// made it one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walkthrough: Option<Walkthrough>,
}

/// The longest walkthrough title and audience, in characters.
pub const MAX_WALKTHROUGH_TITLE_CHARS: usize = 120;
/// The longest walkthrough introduction, in characters.
pub const MAX_WALKTHROUGH_INTRO_CHARS: usize = 600;

/// What makes a collection a walkthrough: its tips, in the collection's order, are its
/// steps, each shown on its own screen beside its text or control.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Walkthrough {
    /// "Orders after the March upgrade".
    pub title: String,
    /// Who it is for: "New nurses on 4 West".
    #[serde(default)]
    pub audience: String,
    /// A short introduction, shown before the first step.
    #[serde(default)]
    pub intro: String,
    /// A step pinned to a control goes on when the user clicks that control ("Next when
    /// you click Sign"), as well as by Next.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub advance_on_click: bool,
}

/// Why a collection cannot be saved. Messages are shown to the user as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectionError {
    #[error("give the collection a name of 1 to {MAX_COLLECTION_NAME_CHARS} characters")]
    BadName,
    #[error("a collection gathers at most {MAX_COLLECTION_TIPS} tips")]
    TooManyTips,
    #[error("a collection lists each tip once")]
    RepeatedTip,
    #[error("give the walkthrough a title of 1 to {MAX_WALKTHROUGH_TITLE_CHARS} characters")]
    BadWalkthroughTitle,
    #[error("say who the walkthrough is for in at most {MAX_WALKTHROUGH_TITLE_CHARS} characters")]
    BadAudience,
    #[error("keep the walkthrough's introduction to {MAX_WALKTHROUGH_INTRO_CHARS} characters")]
    LongIntro,
    #[error("a walkthrough needs at least one step: add tips to the collection first")]
    EmptyWalkthrough,
}

impl Collection {
    pub fn validate(&self) -> Result<(), CollectionError> {
        let name = self.name.trim();
        if name.is_empty() || name != self.name || name.chars().count() > MAX_COLLECTION_NAME_CHARS {
            return Err(CollectionError::BadName);
        }
        if self.tips.len() > MAX_COLLECTION_TIPS {
            return Err(CollectionError::TooManyTips);
        }
        let mut seen = std::collections::HashSet::new();
        if !self.tips.iter().all(|id| seen.insert(*id)) {
            return Err(CollectionError::RepeatedTip);
        }
        if let Some(walkthrough) = &self.walkthrough {
            let title = walkthrough.title.trim();
            if title.is_empty() || title != walkthrough.title || title.chars().count() > MAX_WALKTHROUGH_TITLE_CHARS {
                return Err(CollectionError::BadWalkthroughTitle);
            }
            if walkthrough.audience.chars().count() > MAX_WALKTHROUGH_TITLE_CHARS {
                return Err(CollectionError::BadAudience);
            }
            if walkthrough.intro.chars().count() > MAX_WALKTHROUGH_INTRO_CHARS {
                return Err(CollectionError::LongIntro);
            }
            if self.tips.is_empty() {
                return Err(CollectionError::EmptyWalkthrough);
            }
        }
        Ok(())
    }
}

/// A tip's tags after renaming every tag in `from` (case aside) to `to`: how curators
/// rename a tag or merge several into one. `None` when the tip has none of them.
pub fn rename_tags(tags: &[String], from: &[String], to: &str) -> Option<Vec<String>> {
    let from: Vec<String> = from.iter().map(|t| t.trim().to_lowercase()).collect();
    if !tags.iter().any(|t| from.contains(&t.to_lowercase())) {
        return None;
    }
    let renamed: Vec<String> =
        tags.iter().map(|t| if from.contains(&t.to_lowercase()) { to.to_owned() } else { t.clone() }).collect();
    // Merging can leave the same tag twice: clean keeps the first.
    crate::model::clean_tags(&renamed).ok()
}

/// The date a verification made at `now` runs out by default.
pub fn default_verify_by(now: Timestamp) -> Timestamp {
    Timestamp(now.0 + DEFAULT_VERIFY_DAYS * DAY_MS)
}

/// Checks who names a step: a member name like a tip's author.
pub fn validate_member(name: &str) -> Result<(), CurationError> {
    if name.trim().is_empty() || name.chars().count() > MAX_AUTHOR_CHARS {
        return Err(TipError::BadAuthor.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    #[test]
    fn members_propose_and_flag_and_only_curators_do_the_rest() {
        let approve = Action::Approve { verify_by: default_verify_by(NOW) };
        assert_eq!(Action::Propose.allowed(Role::Member), Ok(()));
        assert_eq!(Action::Flag { reason: "moved".into() }.allowed(Role::Member), Ok(()));
        for action in [
            approve.clone(),
            Action::Retire,
            Action::Reopen,
            Action::Unflag,
            Action::Reword { title: "T".into(), summary: String::new() },
        ] {
            assert_eq!(action.allowed(Role::Member), Err(CurationError::NotCurator(action.verb())));
            assert_eq!(action.allowed(Role::Curator), Ok(()));
            assert_eq!(action.allowed(Role::Admin), Ok(()));
        }
        assert_eq!(
            CurationError::NotCurator(approve.verb()).to_string(),
            "only curators can approve; ask a curator of your team"
        );
    }

    #[test]
    fn verification_dates_are_in_the_future_and_within_a_year() {
        assert_eq!(Action::Approve { verify_by: NOW }.validate(NOW), Err(CurationError::BadVerifyDate));
        assert_eq!(
            Action::Approve { verify_by: Timestamp(NOW.0 + 400 * DAY_MS) }.validate(NOW),
            Err(CurationError::BadVerifyDate)
        );
        assert_eq!(Action::Approve { verify_by: default_verify_by(NOW) }.validate(NOW), Ok(()));
        assert_eq!(Action::Flag { reason: " ".into() }.validate(NOW), Err(CurationError::BadReason));
    }

    #[test]
    fn an_approval_falls_due_on_its_date() {
        let curation = Curation {
            status: Status::Approved,
            verified: Some(Verification { by: "Dana".into(), at: NOW, verify_by: Timestamp(NOW.0 + DAY_MS) }),
            ..Curation::default()
        };
        assert!(!curation.is_due(NOW));
        assert!(!curation.wants_curator(NOW));
        assert!(curation.is_due(Timestamp(NOW.0 + DAY_MS)));
        assert!(curation.wants_curator(Timestamp(NOW.0 + DAY_MS)));
    }

    #[test]
    fn collections_have_a_name_and_list_each_tip_once() {
        let id = |n: u8| TipId::new_v7(1, [n; 10]);
        let collection = Collection {
            id: id(0),
            name: "Orders after the March upgrade".into(),
            tips: vec![id(1), id(2)],
            updated: NOW,
            by: "Dana".into(),
            walkthrough: None,
        };
        assert_eq!(collection.validate(), Ok(()));
        assert_eq!(
            Collection { name: " padded ".into(), ..collection.clone() }.validate(),
            Err(CollectionError::BadName)
        );
        assert_eq!(
            Collection { tips: vec![id(1), id(1)], ..collection.clone() }.validate(),
            Err(CollectionError::RepeatedTip)
        );
        let walkthrough = Walkthrough {
            title: "Orders after the March upgrade".into(),
            audience: "New nurses on 4 West".into(),
            intro: "Five places the upgrade moved.".into(),
            advance_on_click: false,
        };
        let with = |walkthrough: Walkthrough| Collection { walkthrough: Some(walkthrough), ..collection.clone() };
        assert_eq!(with(walkthrough.clone()).validate(), Ok(()));
        assert_eq!(
            with(Walkthrough { title: String::new(), ..walkthrough.clone() }).validate(),
            Err(CollectionError::BadWalkthroughTitle)
        );
        assert_eq!(
            with(Walkthrough { audience: "x".repeat(MAX_WALKTHROUGH_TITLE_CHARS + 1), ..walkthrough.clone() })
                .validate(),
            Err(CollectionError::BadAudience)
        );
        assert_eq!(
            with(Walkthrough { intro: "x".repeat(MAX_WALKTHROUGH_INTRO_CHARS + 1), ..walkthrough.clone() }).validate(),
            Err(CollectionError::LongIntro)
        );
        assert_eq!(
            Collection { tips: Vec::new(), ..with(walkthrough) }.validate(),
            Err(CollectionError::EmptyWalkthrough),
            "a walkthrough of nothing"
        );
    }

    #[test]
    fn renaming_merges_tags_and_leaves_other_tips_alone() {
        let tags = |list: &[&str]| list.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            rename_tags(&tags(&["Orders", "labs"]), &tags(&["orders", "order sets"]), "order sets"),
            Some(tags(&["order sets", "labs"]))
        );
        assert_eq!(
            rename_tags(&tags(&["orders", "Order sets"]), &tags(&["orders", "order sets"]), "order sets"),
            Some(tags(&["order sets"])),
            "merged once"
        );
        assert_eq!(rename_tags(&tags(&["labs"]), &tags(&["orders"]), "order sets"), None);
    }

    #[test]
    fn history_keeps_each_step_once_in_time_order_and_only_the_newest() {
        let event = |n: u64| CurationEvent {
            id: TipId::new_v7(n, [n as u8; 10]),
            at: Timestamp(n as i64),
            by: "Dana".into(),
            what: format!("step {n}"),
        };
        let mut forward = Curation::default();
        let mut backward = Curation::default();
        for n in 0..(MAX_HISTORY as u64 + 10) {
            forward.record(event(n));
            forward.record(event(n));
            backward.record(event(MAX_HISTORY as u64 + 9 - n));
        }
        assert_eq!(forward, backward);
        assert_eq!(forward.history.len(), MAX_HISTORY);
        assert_eq!(forward.history[0].what, "step 10");
    }
}
