//! A walkthrough being played on this device: which collection, which step, kept in the
//! store's settings so it survives reloads, browser restarts and the worker being stopped;
//! and, for the page a content script reports, the step it should show there.
//!
//! The worker answers every page refresh (a load, the app's own navigation, a re-render)
//! with the step: on its own screen the content script puts the step's card on its text or
//! control; elsewhere the card says, in words, which screen to open, and the walkthrough
//! goes on by itself once the user gets there (the next refresh is on that screen).

use inflow_core::curation::Collection;
use inflow_core::export::screen_in_words;
use inflow_core::screen::{screen_pattern, ScreenRule};
use inflow_core::walkthrough::Record;
use inflow_core::{Timestamp, Tip, TipId};
use serde::{Deserialize, Serialize};

/// The settings key of the walkthrough being played.
pub const PROGRESS: &str = "walkthrough_progress";
/// The settings key of this member's records of the walkthroughs they played (see
/// [`inflow_core::walkthrough::Record`]), and of those not yet on the team's server.
pub const RECORDS: &str = "walkthrough_records";
pub const UNSENT: &str = "walkthrough_records_unsent";

/// This device's records, by walkthrough.
pub type Records = std::collections::BTreeMap<TipId, Record>;

/// Keeps the records up to date with a move: a start begins (or goes on with) the
/// walkthrough's record, every step shown counts as reached, and Next on the last step
/// completes it. Answers the walkthrough whose record changed.
pub fn record_move(
    records: &mut Records,
    before: Option<&Progress>,
    after: Option<&Progress>,
    finished: bool,
    now: Timestamp,
) -> Option<TipId> {
    if let Some(after) = after {
        if after.preview {
            return None;
        }
        let record = records
            .entry(after.collection)
            .or_insert_with(|| Record::started(after.collection, after.steps.len(), now));
        record.reach(after.at + 1, now);
        return Some(after.collection);
    }
    let before = before.filter(|b| finished && !b.preview)?;
    let record =
        records.entry(before.collection).or_insert_with(|| Record::started(before.collection, before.steps.len(), now));
    record.complete(now);
    Some(before.collection)
}

/// The walkthrough being played: a copy of its steps as they were when it started (a
/// curator's later change does not move the learner's place under them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub collection: TipId,
    pub title: String,
    /// The curator's introduction, shown with the first step.
    #[serde(default)]
    pub intro: String,
    /// A step pinned to a control goes on when the user clicks it.
    #[serde(default)]
    pub advance_on_click: bool,
    /// A curator's preview: it counts in no record.
    #[serde(default)]
    pub preview: bool,
    pub steps: Vec<TipId>,
    /// The step shown, from 0.
    pub at: usize,
    pub started: Timestamp,
}

/// Where a learner goes from here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Go {
    /// Start `collection`'s walkthrough at its first step (again, if it was under way);
    /// `preview`: a curator trying it, which no record counts.
    Start {
        collection: Box<Collection>,
        #[serde(default)]
        preview: bool,
    },
    /// Go on at the step reached (the panel's Resume): nothing changes, pages are told.
    Resume,
    Next,
    Back,
    Exit,
}

impl Progress {
    /// The progress after `go` (`None`: no walkthrough is played, because it was exited or
    /// finished, or the collection is no walkthrough).
    pub fn after(current: Option<Progress>, go: Go, now: Timestamp) -> Option<Progress> {
        match go {
            Go::Start { collection, preview } => {
                let walkthrough = collection.walkthrough.as_ref()?;
                (!collection.tips.is_empty()).then(|| Progress {
                    collection: collection.id,
                    title: walkthrough.title.clone(),
                    intro: walkthrough.intro.clone(),
                    advance_on_click: walkthrough.advance_on_click,
                    preview,
                    steps: collection.tips.clone(),
                    at: 0,
                    started: now,
                })
            }
            Go::Resume => current,
            Go::Exit => None,
            Go::Next => current.and_then(|p| (p.at + 1 < p.steps.len()).then(|| Progress { at: p.at + 1, ..p })),
            Go::Back => current.map(|p| Progress { at: p.at.saturating_sub(1), ..p }),
        }
    }

    /// The tip of the step shown.
    pub fn tip(&self) -> Option<TipId> {
        self.steps.get(self.at).copied()
    }
}

/// The step as a page shows it (with the content script's answer to a page refresh, and in
/// the frame's card).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The walkthrough's title.
    pub title: String,
    /// Its introduction, with the first step only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub intro: String,
    /// From 1.
    pub number: usize,
    pub total: usize,
    pub tip_id: TipId,
    /// The step belongs to the screen of the page asking.
    pub here: bool,
    /// The step's screen in words ("emr.example › patients › any record › orders").
    pub screen: String,
    /// Set by the content script: the step's text or control was found on this page.
    #[serde(default)]
    pub found: bool,
    /// The step is pinned to a control, and a click on it goes on to the next step.
    #[serde(default)]
    pub advance_on_click: bool,
}

/// The step `progress` is at, as the page at `page_url` shows it; `tip` is the step's tip
/// (`None`: no longer on this device, and the step cannot be shown).
pub fn step_for_page(progress: &Progress, tip: Option<&Tip>, page_url: &str, rules: &[ScreenRule]) -> Option<Step> {
    let tip = tip?;
    let step_screen = screen_pattern(&tip.screen, rules).ok()?;
    let here = screen_pattern(page_url, rules).is_ok_and(|page| page == step_screen);
    Some(Step {
        title: progress.title.clone(),
        intro: if progress.at == 0 { progress.intro.clone() } else { String::new() },
        number: progress.at + 1,
        total: progress.steps.len(),
        tip_id: tip.id,
        here,
        screen: screen_in_words(&step_screen),
        found: false,
        advance_on_click: progress.advance_on_click && tip.target.is_element(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use inflow_core::curation::Walkthrough;
    use inflow_core::{NewTip, Selector, Visibility};

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    fn id(n: u8) -> TipId {
        TipId::new_v7(1_790_000_000_000 + u64::from(n), [n; 10])
    }

    fn collection(walkthrough: bool) -> Collection {
        Collection {
            id: id(0),
            name: "Orders tour".into(),
            tips: vec![id(1), id(2), id(3)],
            updated: NOW,
            by: "Cory".into(),
            walkthrough: walkthrough.then(|| Walkthrough {
                title: "Orders after the upgrade".into(),
                audience: "New nurses".into(),
                intro: String::new(),
                advance_on_click: false,
            }),
        }
    }

    #[test]
    fn a_walkthrough_starts_at_its_first_step_moves_within_its_steps_and_ends() {
        let start = |c: Collection| Progress::after(None, Go::Start { collection: Box::new(c), preview: false }, NOW);
        assert_eq!(start(collection(false)), None, "a plain collection is no walkthrough");
        let first = start(collection(true)).expect("started");
        assert_eq!((first.at, first.tip(), first.title.as_str()), (0, Some(id(1)), "Orders after the upgrade"));
        assert_eq!(
            Progress::after(Some(first.clone()), Go::Back, NOW).map(|p| p.at),
            Some(0),
            "no step before the first"
        );
        let second = Progress::after(Some(first.clone()), Go::Next, NOW).expect("a second step");
        assert_eq!(second.tip(), Some(id(2)));
        assert_eq!(Progress::after(Some(second.clone()), Go::Resume, NOW), Some(second.clone()));
        let third = Progress::after(Some(second), Go::Next, NOW).expect("a third step");
        assert_eq!(Progress::after(Some(third.clone()), Go::Next, NOW), None, "Next on the last step finishes");
        assert_eq!(Progress::after(Some(third), Go::Exit, NOW), None);
        assert_eq!(Progress::after(None, Go::Next, NOW), None, "nothing to move without a walkthrough");
    }

    #[test]
    fn moves_keep_the_members_record() {
        let mut records = Records::new();
        let first = Progress::after(None, Go::Start { collection: Box::new(collection(true)), preview: false }, NOW);
        assert_eq!(record_move(&mut records, None, first.as_ref(), false, NOW), Some(id(0)));
        let last = Progress { at: 2, ..first.clone().expect("started") };
        record_move(&mut records, first.as_ref(), Some(&last), false, Timestamp(NOW.0 + 1));
        assert_eq!((records[&id(0)].reached, records[&id(0)].completed), (3, None));
        assert_eq!(record_move(&mut records, Some(&last), None, false, NOW), None, "an exit changes nothing");
        assert_eq!(record_move(&mut records, Some(&last), None, true, Timestamp(NOW.0 + 2)), Some(id(0)));
        assert_eq!(records[&id(0)].completed, Some(Timestamp(NOW.0 + 2)), "Next on the last step completes it");
        assert_eq!(records[&id(0)].validate(), Ok(()));
        let preview = Progress::after(None, Go::Start { collection: Box::new(collection(true)), preview: true }, NOW)
            .expect("a preview plays too");
        let mut none = Records::new();
        assert_eq!(record_move(&mut none, None, Some(&preview), false, NOW), None);
        assert_eq!(record_move(&mut none, Some(&preview), None, true, NOW), None);
        assert!(none.is_empty(), "a curator's preview counts in no record");
    }

    #[test]
    fn a_step_is_here_on_any_record_of_its_screen_and_named_in_words_elsewhere() {
        let tip = NewTip {
            page_url: "http://emr.example/patients/7/orders".into(),
            page_title: "Orders".into(),
            note: "Star the order set.".into(),
            tags: Vec::new(),
            visibility: Visibility::Team,
            selectors: vec![Selector::TextQuote {
                exact: "Order sets".into(),
                prefix: String::new(),
                suffix: String::new(),
                block: None,
            }],
        }
        .into_tip(id(2), "Dana", NOW)
        .expect("a tip");
        let progress = Progress::after(None, Go::Start { collection: Box::new(collection(true)), preview: false }, NOW)
            .and_then(|p| Progress::after(Some(p), Go::Next, NOW))
            .expect("at step 2");
        let on = |url: &str| step_for_page(&progress, Some(&tip), url, &[]).expect("a step");
        let here = on("http://emr.example/patients/12/orders");
        assert!(here.here, "another patient's Orders is the same screen");
        assert_eq!((here.number, here.total, here.tip_id), (2, 3, id(2)));
        let elsewhere = on("http://emr.example/patients");
        assert!(!elsewhere.here);
        assert_eq!(elsewhere.screen, "emr.example \u{203a} patients \u{203a} any record \u{203a} orders");
        assert_eq!(
            step_for_page(&progress, None, "http://emr.example/patients", &[]),
            None,
            "a tip gone from the device"
        );
    }
}
