//! The side panel's model, apart from the DOM so it is tested natively: what the feed
//! shows (one enum for the feed's filter, the export of "the feed's search and filters",
//! and the `<select>` options of `sidepanel.html`, which a tidy test holds to it), in what
//! order, and which tips match.

use std::collections::HashSet;

use inflow_core::curation::{Action, Collection, Curation, Role, Status};
use inflow_core::export::Selection;
use inflow_core::search::{Search, Searchable};
use inflow_core::{Timestamp, Tip, TipId, Visibility};

/// What the feed shows: the `show` select's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    All,
    Mine,
    Team,
    Private,
    Waiting,
    Proposed,
    Approved,
    Review,
    Retired,
    /// One of the team's collections, in its curator's order (`collection:<id>`).
    Collection(TipId),
}

impl Show {
    /// The fixed choices, in the order the select lists them (collections follow).
    pub const FIXED: [Show; 9] = [
        Show::All,
        Show::Mine,
        Show::Team,
        Show::Private,
        Show::Waiting,
        Show::Proposed,
        Show::Approved,
        Show::Review,
        Show::Retired,
    ];

    /// The select's value for this choice.
    pub fn value(self) -> String {
        match self {
            Show::Collection(id) => format!("collection:{id}"),
            fixed => fixed.fixed_value().to_owned(),
        }
    }

    fn fixed_value(self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Mine => "mine",
            Show::Team => "team",
            Show::Private => "private",
            Show::Waiting => "waiting",
            Show::Proposed => "proposed",
            Show::Approved => "approved",
            Show::Review => "review",
            Show::Retired => "retired",
            Show::Collection(_) => "collection",
        }
    }

    /// The choice a select value names; anything else shows everything.
    pub fn parse(value: &str) -> Show {
        if let Some(id) = value.strip_prefix("collection:").and_then(|id| id.parse().ok()) {
            return Show::Collection(id);
        }
        Show::FIXED.into_iter().find(|show| show.fixed_value() == value).unwrap_or(Show::All)
    }

    /// The one curation status this choice stands for, if it stands for one.
    pub fn status(self) -> Option<Status> {
        match self {
            Show::Proposed => Some(Status::Proposed),
            Show::Approved => Some(Status::Approved),
            Show::Retired => Some(Status::Retired),
            _ => None,
        }
    }
}

/// The feed's order: the `sort` select's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    NewestFirst,
    OldestFirst,
}

impl Sort {
    pub const ALL: [Sort; 2] = [Sort::NewestFirst, Sort::OldestFirst];

    pub fn value(self) -> &'static str {
        match self {
            Sort::NewestFirst => "newest",
            Sort::OldestFirst => "oldest",
        }
    }

    pub fn parse(value: &str) -> Sort {
        Sort::ALL.into_iter().find(|sort| sort.value() == value).unwrap_or(Sort::NewestFirst)
    }
}

/// What a control in a tip's view does: its `data-action`, written from this enum and
/// parsed back into it by the one set of listeners of the page (the panel's or the frame's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TipAction {
    /// Scroll the page to the tip and flash it.
    Reveal,
    OpenReplies,
    Helpful,
    /// The author's Edit button, and the form it opens.
    Edit,
    CancelEdit,
    Delete,
    /// The reply form.
    Reply,
    /// A curation step's button (which step: [`OfferedStep`] in `data-step`).
    Curate,
    /// The "Add to collection" choice.
    Collect,
    MoveUp,
    MoveDown,
    Uncollect,
    /// The form that asks for the verify-again date.
    Approve,
    /// The form for the curator's title and summary.
    Reword,
    /// "Hide selected words" in an edit form's preview of a shared tip.
    HideWords,
    /// A feed item's "Go there": the tab on the tip's screen, or a new one.
    GoThere,
}

impl TipAction {
    pub const ALL: [TipAction; 16] = [
        TipAction::Reveal,
        TipAction::OpenReplies,
        TipAction::Helpful,
        TipAction::Edit,
        TipAction::CancelEdit,
        TipAction::Delete,
        TipAction::Reply,
        TipAction::Curate,
        TipAction::Collect,
        TipAction::MoveUp,
        TipAction::MoveDown,
        TipAction::Uncollect,
        TipAction::Approve,
        TipAction::Reword,
        TipAction::HideWords,
        TipAction::GoThere,
    ];

    pub fn value(self) -> &'static str {
        match self {
            TipAction::Reveal => "reveal",
            TipAction::OpenReplies => "open-replies",
            TipAction::Helpful => "helpful",
            TipAction::Edit => "edit",
            TipAction::CancelEdit => "cancel-edit",
            TipAction::Delete => "delete",
            TipAction::Reply => "reply",
            TipAction::Curate => "curate",
            TipAction::Collect => "collect",
            TipAction::MoveUp => "move-up",
            TipAction::MoveDown => "move-down",
            TipAction::Uncollect => "uncollect",
            TipAction::Approve => "approve",
            TipAction::Reword => "reword",
            TipAction::HideWords => "hide-words",
            TipAction::GoThere => "go-there",
        }
    }

    pub fn parse(value: &str) -> Option<TipAction> {
        TipAction::ALL.into_iter().find(|action| action.value() == value)
    }
}

/// A curation step a tip's card offers (its button's `data-step`): the steps that need no
/// more from the curator are taken at once; approving and rewording open a form first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferedStep {
    Propose,
    Approve,
    Unflag,
    Retire,
    Reopen,
    Reword,
}

impl OfferedStep {
    pub const ALL: [OfferedStep; 6] = [
        OfferedStep::Propose,
        OfferedStep::Approve,
        OfferedStep::Unflag,
        OfferedStep::Retire,
        OfferedStep::Reopen,
        OfferedStep::Reword,
    ];

    pub fn value(self) -> &'static str {
        match self {
            OfferedStep::Propose => "propose",
            OfferedStep::Approve => "approve",
            OfferedStep::Unflag => "unflag",
            OfferedStep::Retire => "retire",
            OfferedStep::Reopen => "reopen",
            OfferedStep::Reword => "reword",
        }
    }

    pub fn parse(value: &str) -> Option<OfferedStep> {
        OfferedStep::ALL.into_iter().find(|step| step.value() == value)
    }

    /// The core step it is, when it needs nothing more; `None` for the steps whose form
    /// asks first (approving: the date; rewording: the words).
    pub fn at_once(self) -> Option<Action> {
        match self {
            OfferedStep::Propose => Some(Action::Propose),
            OfferedStep::Unflag => Some(Action::Unflag),
            OfferedStep::Retire => Some(Action::Retire),
            OfferedStep::Reopen => Some(Action::Reopen),
            OfferedStep::Approve | OfferedStep::Reword => None,
        }
    }

    /// The form it opens, for the steps that ask first.
    pub fn form(self) -> Option<TipAction> {
        match self {
            OfferedStep::Approve => Some(TipAction::Approve),
            OfferedStep::Reword => Some(TipAction::Reword),
            _ => None,
        }
    }
}

/// What an export takes: the `export-what` select's values (collections follow).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportWhat {
    Approved,
    /// The feed's search and filters.
    Feed,
    Everything,
    Collection(TipId),
}

impl ExportWhat {
    pub const FIXED: [ExportWhat; 3] = [ExportWhat::Approved, ExportWhat::Feed, ExportWhat::Everything];

    pub fn value(self) -> String {
        match self {
            ExportWhat::Approved => "approved".into(),
            ExportWhat::Feed => "filter".into(),
            ExportWhat::Everything => "everything".into(),
            ExportWhat::Collection(id) => format!("collection:{id}"),
        }
    }

    pub fn parse(value: &str) -> ExportWhat {
        if let Some(id) = value.strip_prefix("collection:").and_then(|id| id.parse().ok()) {
            return ExportWhat::Collection(id);
        }
        ExportWhat::FIXED.into_iter().find(|what| what.value() == value).unwrap_or(ExportWhat::Approved)
    }
}

/// The feed's filters as the user set them.
#[derive(Clone, Debug)]
pub struct FeedQuery {
    /// The search box's words as typed (the export of "the feed" takes them as they are).
    pub search_text: String,
    pub search: Search,
    pub show: Show,
    /// One tag, or empty for any.
    pub tag: String,
    pub sort: Sort,
}

impl Default for FeedQuery {
    fn default() -> FeedQuery {
        FeedQuery {
            search_text: String::new(),
            search: Search::default(),
            show: Show::All,
            tag: String::new(),
            sort: Sort::NewestFirst,
        }
    }
}

/// One change the user made to the feed's filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    Search(String),
    Show(Show),
    Tag(String),
    Sort(Sort),
}

/// Tips the feed renders at first, and more each time: enough to fill a panel, few enough
/// to paint fast with 10,000 tips stored.
pub const PAGE: usize = 50;

/// Everything the side panel shows, apart from the DOM: the tips on this device, newest
/// first with their search text prepared, which of them the feed has shown (the rest are
/// "new" until the user asks for them: arriving tips never move what is being read), the
/// feed's filters, and who is looking. The view renders from it; events change it.
#[derive(Default)]
pub struct PanelState {
    tips: Vec<Tip>,
    searchable: Vec<Searchable>,
    /// Ids the feed showed; tips beyond these are "new" until the user shows them.
    seen: HashSet<TipId>,
    /// How many matching tips the feed renders.
    pub shown: usize,
    pub query: FeedQuery,
    /// Only the newest page is loaded yet.
    pub loading: bool,
    /// The name this member signs with: "Mine", and their own tips' Edit and Delete.
    pub me: String,
    /// Whether this member curates (curators and admins).
    pub curator: bool,
    /// The team's name, for exports.
    pub team: String,
    /// The team's collections, from the server.
    pub collections: Vec<Collection>,
    /// Tips whose replies the user opened; kept open through re-renders.
    pub open_replies: HashSet<TipId>,
    /// Tips with changes the server has not acknowledged yet.
    pub waiting: HashSet<TipId>,
}

impl PanelState {
    /// The newest page of tips, shown at once while the rest load.
    pub fn first_page(&mut self, newest: Vec<Tip>) {
        self.seen = newest.iter().map(|t| t.id).collect();
        self.set_tips(newest);
        self.shown = PAGE;
        self.loading = true;
    }

    /// Every tip on the device, once loaded: all of them are the feed's.
    pub fn loaded(&mut self, tips: Vec<Tip>) {
        self.seen = tips.iter().map(|t| t.id).collect();
        self.set_tips(tips);
        self.loading = false;
    }

    /// The device's tips after a change (a sync, an edit): what was not shown before waits
    /// behind "new", except in an empty feed, which has nothing to keep in place. Returns
    /// how many wait.
    pub fn arrived(&mut self, tips: Vec<Tip>) -> usize {
        self.set_tips(tips);
        if self.seen.is_empty() {
            self.seen = self.tips.iter().map(|t| t.id).collect();
        }
        self.waiting_new()
    }

    /// How many tips wait behind "new".
    pub fn waiting_new(&self) -> usize {
        self.tips.iter().filter(|t| !self.seen.contains(&t.id)).count()
    }

    /// The user asked for the new tips.
    pub fn show_new(&mut self) {
        self.seen = self.tips.iter().map(|t| t.id).collect();
    }

    /// This member saved `id` themselves: it is no news to them.
    pub fn saw(&mut self, id: TipId) {
        self.seen.insert(id);
    }

    /// The next page of the feed.
    pub fn more(&mut self) {
        self.shown += PAGE;
    }

    /// A filter changed: the feed starts again at its first page.
    pub fn filter(&mut self, change: Filter) {
        match change {
            Filter::Search(text) => {
                self.query.search = Search::parse(&text);
                self.query.search_text = text;
            }
            Filter::Show(show) => self.query.show = show,
            Filter::Tag(tag) => self.query.tag = tag,
            Filter::Sort(sort) => self.query.sort = sort,
        }
        self.shown = PAGE;
    }

    pub fn tips(&self) -> &[Tip] {
        &self.tips
    }

    pub fn tip(&self, id: TipId) -> Option<&Tip> {
        self.tips.iter().find(|t| t.id == id)
    }

    /// How many tips the feed has shown (the "of N" in "3 of N tips match").
    pub fn seen_count(&self) -> usize {
        self.seen.len()
    }

    /// Every tip the feed's filters match, in its order (it renders the first `shown`).
    pub fn feed(&self, now: Timestamp) -> Vec<&Tip> {
        let cx = FeedContext { me: &self.me, waiting: &self.waiting, now, collections: &self.collections };
        feed(&self.tips, &self.searchable, &self.seen, &self.query, &cx)
    }

    /// What waits for a curator (proposed, flagged and due shared tips): flagged first,
    /// then proposed, then due, the longest waiting first in each.
    pub fn queue(&self, now: Timestamp) -> Vec<&Tip> {
        let mut waiting: Vec<&Tip> =
            self.tips.iter().filter(|t| t.visibility == Visibility::Team && t.curation.wants_curator(now)).collect();
        waiting.sort_by_key(|t| (t.curation.needs_review.is_none(), t.curation.status != Status::Proposed, t.modified));
        waiting
    }

    /// What an export of `what` takes: "the feed" is its search and filters as they are.
    pub fn export_selection(&self, what: ExportWhat) -> Selection {
        match what {
            ExportWhat::Everything => Selection::Everything,
            ExportWhat::Feed => self.query.selection(),
            ExportWhat::Collection(id) => Selection::Collection { id },
            ExportWhat::Approved => Selection::Approved,
        }
    }

    fn set_tips(&mut self, mut tips: Vec<Tip>) {
        tips.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
        self.searchable = tips.iter().map(Searchable::of).collect();
        self.tips = tips;
    }
}

impl FeedQuery {
    /// Whether the feed shows everything (no search, no filter): its count reads "N tips".
    pub fn is_everything(&self) -> bool {
        self.search.is_empty() && self.show == Show::All && self.tag.is_empty()
    }

    /// The export of "the feed's search and filters": the search with the tag, and the
    /// status the filter stands for.
    pub fn selection(&self) -> Selection {
        let mut query = self.search_text.clone();
        if !self.tag.is_empty() {
            query.push_str(&format!(" \"tag:{}\"", self.tag));
        }
        Selection::Filter { query, status: self.show.status() }
    }
}

/// What "mine", "waiting" and "due" mean on this device.
pub struct FeedContext<'a> {
    pub me: &'a str,
    pub waiting: &'a HashSet<TipId>,
    pub now: Timestamp,
    pub collections: &'a [Collection],
}

/// The tips the feed lists for `query`, in its order: `tips` newest first with their
/// prepared search text beside them, only those in `seen` (the rest wait behind "new").
pub fn feed<'a>(
    tips: &'a [Tip],
    searchable: &[Searchable],
    seen: &HashSet<TipId>,
    query: &FeedQuery,
    cx: &FeedContext<'_>,
) -> Vec<&'a Tip> {
    let collection = match query.show {
        Show::Collection(id) => Some(cx.collections.iter().find(|c| c.id == id)),
        _ => None,
    };
    let keeps = |t: &Tip| match query.show {
        Show::All => true,
        Show::Mine => t.author == cx.me,
        Show::Team => t.visibility == Visibility::Team,
        Show::Private => t.visibility == Visibility::Private,
        Show::Waiting => cx.waiting.contains(&t.id),
        Show::Proposed | Show::Approved | Show::Retired => Some(t.curation.status) == query.show.status(),
        Show::Review => t.curation.needs_review.is_some() || t.curation.is_due(cx.now),
        Show::Collection(_) => collection.flatten().is_some_and(|c| c.tips.contains(&t.id)),
    };
    let mut matching: Vec<&Tip> = tips
        .iter()
        .zip(searchable)
        .filter(|(t, _)| seen.contains(&t.id) && keeps(t))
        .filter(|(t, _)| query.tag.is_empty() || t.tags.contains(&query.tag))
        .filter(|(_, prepared)| query.search.matches_prepared(prepared))
        .map(|(t, _)| t)
        .collect();
    if let Some(Some(collection)) = collection {
        // A collection reads in its curator's order.
        matching.sort_by_key(|t| collection.tips.iter().position(|id| *id == t.id));
    } else if query.sort == Sort::OldestFirst {
        matching.reverse();
    }
    matching
}

/// What the panel says once a curation step is stored: what happened, in plain words, so
/// a tip that leaves the queue does not just vanish.
pub fn step_done(step: &Action) -> String {
    match step {
        Action::Propose => "Suggested for training: it now waits in the curators' queue.".to_owned(),
        Action::Approve { verify_by } => {
            format!("Approved: it is among the approved tips, to be checked again by {}.", verify_by.day())
        }
        Action::Retire => "Retired: it no longer shows on screens. Reopen it to bring it back.".to_owned(),
        Action::Reopen => "Reopened: it is a plain shared tip again.".to_owned(),
        Action::Reword { title, .. } if title.is_empty() => "Title removed: the note heads the tip again.".to_owned(),
        Action::Reword { .. } => "Title saved.".to_owned(),
        Action::Flag { .. } => "Sent to the curators for review.".to_owned(),
        Action::Unflag => "Review flag cleared: the tip stays as it is.".to_owned(),
    }
}

/// The steps that put a tip's curation back as it was `before` `step` was taken, when `role`
/// may take them now: empty when it cannot be undone (a member cannot take a proposal back,
/// and an approval whose verify-again date has passed cannot be restored). Undoing an
/// approval also puts back the review flag it answered, and so does putting an approval
/// back. The undo is itself a step, so the history and the team see both.
pub fn undo_steps(before: &Curation, step: &Action, role: Role, now: Timestamp) -> Vec<Action> {
    let status_back = || match before.status {
        Status::Shared => Some(Action::Reopen),
        Status::Proposed => Some(Action::Propose),
        Status::Retired => Some(Action::Retire),
        Status::Approved => {
            before.verified.as_ref().filter(|v| v.verify_by > now).map(|v| Action::Approve { verify_by: v.verify_by })
        }
    };
    let flag_back = || before.needs_review.as_ref().map(|flag| Action::Flag { reason: flag.reason.clone() });
    let steps = match step {
        Action::Propose | Action::Retire | Action::Reopen | Action::Approve { .. } => status_back().map(|back| {
            // An approval clears the review flag: the step undone, or the one that undoes.
            let clears_flag = matches!(step, Action::Approve { .. }) || matches!(back, Action::Approve { .. });
            std::iter::once(back).chain(flag_back().filter(|_| clears_flag)).collect()
        }),
        Action::Reword { .. } => {
            Some(vec![Action::Reword { title: before.title.clone(), summary: before.summary.clone() }])
        }
        Action::Flag { .. } => Some(vec![flag_back().unwrap_or(Action::Unflag)]),
        Action::Unflag => flag_back().map(|back| vec![back]),
    };
    steps.filter(|steps| steps.iter().all(|s| s.allowed(role).is_ok() && s.validate(now).is_ok())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use inflow_core::curation::Parts;
    use inflow_core::{NewTip, Selector};

    fn tip(n: u8, author: &str, visibility: Visibility, tags: &[&str]) -> Tip {
        NewTip {
            page_url: "http://127.0.0.1:8700/patients/1/orders".into(),
            page_title: "Orders".into(),
            note: format!("note {n}"),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            visibility,
            selectors: vec![Selector::TextQuote {
                exact: format!("quote {n}"),
                prefix: String::new(),
                suffix: String::new(),
                block: None,
            }],
        }
        .into_tip(TipId::new_v7(1_790_000_000_000 + u64::from(n), [n; 10]), author, Timestamp(1_790_000_000_000))
        .expect("valid")
    }

    #[test]
    fn every_choice_reads_back_from_its_value() {
        let id = TipId::new_v7(1, [1; 10]);
        for show in Show::FIXED.into_iter().chain([Show::Collection(id)]) {
            assert_eq!(Show::parse(&show.value()), show);
        }
        for sort in Sort::ALL {
            assert_eq!(Sort::parse(sort.value()), sort);
        }
        for what in ExportWhat::FIXED.into_iter().chain([ExportWhat::Collection(id)]) {
            assert_eq!(ExportWhat::parse(&what.value()), what);
        }
        assert_eq!(Show::parse("collection:not-an-id"), Show::All, "an unknown value shows everything");
    }

    #[test]
    fn the_feed_filters_by_choice_tag_and_search_in_its_order() {
        // Newest first, as the panel keeps them.
        let tips = vec![
            tip(3, "Sam", Visibility::Team, &["orders"]),
            tip(2, "Dana", Visibility::Private, &["billing"]),
            tip(1, "Dana", Visibility::Team, &["orders"]),
        ];
        let searchable: Vec<Searchable> = tips.iter().map(Searchable::of).collect();
        let seen: HashSet<TipId> = tips.iter().map(|t| t.id).collect();
        let waiting: HashSet<TipId> = [tips[1].id].into();
        let cx = FeedContext { me: "Dana", waiting: &waiting, now: Timestamp(1_790_000_000_000), collections: &[] };
        let notes = |query: FeedQuery| -> Vec<String> {
            feed(&tips, &searchable, &seen, &query, &cx).iter().map(|t| t.note.clone()).collect()
        };
        let query = |show: Show, tag: &str, sort: Sort, search: &str| FeedQuery {
            search_text: search.into(),
            search: Search::parse(search),
            show,
            tag: tag.into(),
            sort,
        };
        assert_eq!(notes(query(Show::All, "", Sort::NewestFirst, "")), ["note 3", "note 2", "note 1"]);
        assert_eq!(notes(query(Show::All, "", Sort::OldestFirst, "")), ["note 1", "note 2", "note 3"]);
        assert_eq!(notes(query(Show::Mine, "", Sort::NewestFirst, "")), ["note 2", "note 1"]);
        assert_eq!(notes(query(Show::Team, "orders", Sort::NewestFirst, "")), ["note 3", "note 1"]);
        assert_eq!(notes(query(Show::Private, "", Sort::NewestFirst, "")), ["note 2"]);
        assert_eq!(notes(query(Show::Waiting, "", Sort::NewestFirst, "")), ["note 2"]);
        assert_eq!(notes(query(Show::All, "", Sort::NewestFirst, "author:Sam")), ["note 3"]);
        assert!(notes(query(Show::Approved, "", Sort::NewestFirst, "")).is_empty());
        let everything = query(Show::All, "", Sort::NewestFirst, "");
        assert!(everything.is_everything());
        let approved_orders = query(Show::Approved, "orders", Sort::NewestFirst, "renal");
        assert_eq!(
            approved_orders.selection(),
            Selection::Filter { query: "renal \"tag:orders\"".into(), status: Some(Status::Approved) }
        );
    }

    /// The option values of `<select id="{id}">` in the side panel's HTML.
    fn options(id: &str) -> Vec<String> {
        let html = include_str!("../extension/sidepanel.html");
        let start = html.find(&format!("<select id=\"{id}\"")).unwrap_or_else(|| panic!("no select {id}"));
        let select = &html[start..start + html[start..].find("</select>").expect("the select ends")];
        select
            .match_indices("<option value=\"")
            .map(|(at, marker)| {
                let rest = &select[at + marker.len()..];
                rest[..rest.find('"').expect("the value ends")].to_owned()
            })
            .collect()
    }

    #[test]
    fn arriving_tips_wait_behind_new_and_never_move_what_is_read() {
        let mut panel = PanelState::default();
        panel.first_page(vec![tip(2, "Dana", Visibility::Team, &[]), tip(1, "Sam", Visibility::Team, &[])]);
        assert!(panel.loading);
        assert_eq!(panel.feed(Timestamp(0)).len(), 2);
        panel.loaded(vec![
            tip(1, "Sam", Visibility::Team, &[]),
            tip(2, "Dana", Visibility::Team, &[]),
            tip(3, "Sam", Visibility::Team, &[]),
        ]);
        assert!(!panel.loading);
        let newest: Vec<u8> = panel.feed(Timestamp(0)).iter().map(|t| t.note.as_bytes()[5] - b'0').collect();
        assert_eq!(newest, [3, 2, 1], "all loaded tips are the feed's, newest first");
        // A teammate's tip arrives: it waits; the feed stays as it was.
        let mut now_on_device = panel.tips().to_vec();
        now_on_device.push(tip(4, "Sam", Visibility::Team, &[]));
        assert_eq!(panel.arrived(now_on_device.clone()), 1);
        assert_eq!(panel.feed(Timestamp(0)).len(), 3);
        // One of this member's own arrives too: saved here, it is no news.
        now_on_device.push(tip(5, "Dana", Visibility::Team, &[]));
        panel.saw(now_on_device[4].id);
        assert_eq!(panel.arrived(now_on_device), 1);
        assert_eq!(panel.feed(Timestamp(0)).len(), 4);
        panel.show_new();
        assert_eq!((panel.waiting_new(), panel.feed(Timestamp(0)).len()), (0, 5));
    }

    #[test]
    fn an_empty_feed_shows_what_arrives_and_a_filter_starts_again_at_the_first_page() {
        let mut panel = PanelState::default();
        assert_eq!(panel.arrived(vec![tip(1, "Sam", Visibility::Team, &["orders"])]), 0);
        assert_eq!(panel.feed(Timestamp(0)).len(), 1);
        panel.shown = PAGE;
        panel.more();
        assert_eq!(panel.shown, 2 * PAGE);
        panel.filter(Filter::Tag("orders".into()));
        assert_eq!((panel.shown, panel.feed(Timestamp(0)).len()), (PAGE, 1));
        panel.filter(Filter::Search("nothing-like-this".into()));
        assert_eq!(panel.query.search_text, "nothing-like-this");
        assert!(panel.feed(Timestamp(0)).is_empty());
        panel.filter(Filter::Search(String::new()));
        panel.filter(Filter::Show(Show::Private));
        assert!(panel.feed(Timestamp(0)).is_empty(), "the one tip is the team's");
    }

    #[test]
    fn the_queue_lists_flagged_then_proposed_then_due_shared_tips_and_the_export_takes_the_feed_as_filtered() {
        let now = Timestamp(1_790_000_000_000);
        let mut flagged = tip(1, "Sam", Visibility::Team, &[]);
        flagged.curation.needs_review =
            Some(inflow_core::curation::ReviewFlag { since: now, reason: "gone from its page".into() });
        let mut proposed = tip(2, "Sam", Visibility::Team, &[]);
        proposed.curation.status = Status::Proposed;
        let mut private_proposed = tip(3, "Dana", Visibility::Private, &[]);
        private_proposed.curation.status = Status::Proposed;
        let plain = tip(4, "Sam", Visibility::Team, &["orders"]);
        let mut panel = PanelState::default();
        panel.loaded(vec![plain, private_proposed, proposed, flagged]);
        let queue: Vec<&str> = panel.queue(now).iter().map(|t| t.note.as_str()).collect();
        assert_eq!(queue, ["note 1", "note 2"]);

        panel.filter(Filter::Search("renal".into()));
        panel.filter(Filter::Tag("orders".into()));
        assert_eq!(
            panel.export_selection(ExportWhat::Feed),
            Selection::Filter { query: "renal \"tag:orders\"".into(), status: None }
        );
        assert_eq!(panel.export_selection(ExportWhat::Approved), Selection::Approved);
    }

    #[test]
    fn every_action_and_step_reads_back_from_its_value() {
        for action in TipAction::ALL {
            assert_eq!(TipAction::parse(action.value()), Some(action));
        }
        for step in OfferedStep::ALL {
            assert_eq!(OfferedStep::parse(step.value()), Some(step));
            assert!(step.at_once().is_some() != step.form().is_some(), "{step:?} is taken at once or asks first");
        }
        assert_eq!(TipAction::parse("curate-now"), None);
        assert_eq!(OfferedStep::parse(""), None);
    }

    #[test]
    fn the_views_write_and_read_actions_only_through_their_enum() {
        for (file, source) in [
            ("tip_view.rs", include_str!("tip_view.rs")),
            ("side_panel.rs", include_str!("side_panel.rs")),
            ("side_panel/curation.rs", include_str!("side_panel/curation.rs")),
            ("tip_frame.rs", include_str!("tip_frame.rs")),
        ] {
            let values =
                TipAction::ALL.map(TipAction::value).into_iter().chain(OfferedStep::ALL.map(OfferedStep::value));
            for value in values {
                let literal = format!("\"{value}\"");
                assert!(!source.contains(&literal), "{file} names {literal} by hand: use TipAction or OfferedStep");
            }
        }
    }

    #[test]
    fn every_select_option_of_the_panel_is_a_value_of_its_enum() {
        assert_eq!(options("show"), Show::FIXED.iter().map(|s| s.value()).collect::<Vec<_>>());
        assert_eq!(options("sort"), Sort::ALL.iter().map(|s| s.value().to_owned()).collect::<Vec<_>>());
        assert_eq!(options("export-what"), ExportWhat::FIXED.iter().map(|w| w.value()).collect::<Vec<_>>());
        let offered: Vec<inflow_core::export::Format> =
            options("export-format").iter().filter_map(|value| inflow_core::export::Format::parse(value)).collect();
        let courses = options("export-format").iter().filter(|value| *value == inflow_core::cmi5::FORMAT_NAME).count();
        assert_eq!(courses, 1, "the cmi5 course is offered");
        assert_eq!(
            offered.len() + courses,
            options("export-format").len(),
            "every other offered format is one Format::parse reads"
        );
        for format in inflow_core::export::Format::ALL {
            assert!(offered.contains(&format), "{format:?} is offered");
        }
    }

    #[test]
    fn every_curation_step_says_what_happened() {
        let day = Timestamp(1_795_000_000_000); // 2026-11-18
        assert_eq!(
            step_done(&Action::Approve { verify_by: day }),
            "Approved: it is among the approved tips, to be checked again by 2026-11-18."
        );
        let steps = [
            Action::Propose,
            Action::Retire,
            Action::Reopen,
            Action::Reword { title: String::new(), summary: String::new() },
            Action::Reword { title: "T".into(), summary: String::new() },
            Action::Flag { reason: "r".into() },
            Action::Unflag,
        ];
        let said: HashSet<String> = steps.iter().map(step_done).collect();
        assert_eq!(said.len(), steps.len(), "each step is said in its own words");
        assert!(said.iter().all(|text| text.ends_with('.') && !text.contains("Propose")), "{said:?}");
    }

    #[test]
    fn each_step_undoes_to_the_curation_it_left_and_only_when_the_member_may() {
        let now = Timestamp(1_790_000_000_000);
        let later = Timestamp(now.0 + 30 * 24 * 60 * 60 * 1000);
        let id = |n: u8| TipId::new_v7(1_790_000_000_000, [n; 10]);
        let steps = [
            Action::Propose,
            Action::Approve { verify_by: later },
            Action::Retire,
            Action::Reopen,
            Action::Reword { title: "Order sets".into(), summary: String::new() },
            Action::Flag { reason: "The button moved".into() },
            Action::Unflag,
        ];
        // Every reachable start: each status, with and without a flag and a title.
        let mut starts = Vec::new();
        for (n, path) in
            [vec![], vec![Action::Propose], vec![Action::Approve { verify_by: later }], vec![Action::Retire]]
                .into_iter()
                .enumerate()
        {
            for flagged in [false, true] {
                let mut c = Curation::default();
                for step in &path {
                    c.take_step("Dana", step, now, id(n as u8), Parts::ALL);
                }
                if flagged {
                    c.take_step("Sam", &Action::Flag { reason: "Out of date".into() }, now, id(9), Parts::ALL);
                    c.take_step(
                        "Dana",
                        &Action::Reword { title: "Old".into(), summary: "s".into() },
                        now,
                        id(8),
                        Parts::ALL,
                    );
                }
                starts.push(c);
            }
        }
        let without_history = |c: &Curation| Curation { history: Vec::new(), verified: None, ..c.clone() };
        for before in &starts {
            for step in &steps {
                if *step == Action::Unflag && before.needs_review.is_none() {
                    continue; // not offered: there is no flag to clear
                }
                let mut after = before.clone();
                after.take_step("Dana", step, now, id(20), Parts::ALL);
                let undo = undo_steps(before, step, Role::Curator, now);
                assert!(!undo.is_empty(), "a curator undoes {step:?} from {before:?}");
                for (n, back) in undo.iter().enumerate() {
                    after.take_step("Dana", back, now, id(30 + n as u8), Parts::ALL);
                }
                assert_eq!(without_history(&after), without_history(before), "undoing {step:?}");
                assert_eq!(after.verified.map(|v| v.verify_by), before.verified.as_ref().map(|v| v.verify_by));
            }
        }
        // A member's proposal cannot be taken back by them (only curators reopen); their flag can.
        assert!(undo_steps(&Curation::default(), &Action::Propose, Role::Member, now).is_empty());
        let flag = Action::Flag { reason: "Moved".into() };
        assert_eq!(undo_steps(&Curation::default(), &flag, Role::Member, now), []);
        assert_eq!(undo_steps(&Curation::default(), &flag, Role::Curator, now), [Action::Unflag]);
        // An approval run out cannot be put back.
        let mut due = Curation::default();
        due.take_step("Dana", &Action::Approve { verify_by: later }, now, id(1), Parts::ALL);
        assert!(undo_steps(&due, &Action::Retire, Role::Curator, later).is_empty());
    }
}
