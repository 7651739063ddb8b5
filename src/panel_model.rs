//! The side panel's model, apart from the DOM so it is tested natively: what the feed
//! shows (one enum for the feed's filter, the export of "the feed's search and filters",
//! and the `<select>` options of `sidepanel.html`, which a tidy test holds to it), in what
//! order, and which tips match.

use std::collections::HashSet;

use inflow_core::curation::{Collection, Status};
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
    pub search: Search,
    pub show: Show,
    /// One tag, or empty for any.
    pub tag: String,
    pub sort: Sort,
}

impl FeedQuery {
    /// Whether the feed shows everything (no search, no filter): its count reads "N tips".
    pub fn is_everything(&self) -> bool {
        self.search.is_empty() && self.show == Show::All && self.tag.is_empty()
    }

    /// The export of "the feed's search and filters": the search with the tag, and the
    /// status the filter stands for.
    pub fn selection(&self, search_text: &str) -> Selection {
        let mut query = search_text.to_owned();
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

#[cfg(test)]
mod tests {
    use super::*;
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
        let approved_orders = query(Show::Approved, "orders", Sort::NewestFirst, "");
        assert_eq!(
            approved_orders.selection("renal"),
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
    fn every_select_option_of_the_panel_is_a_value_of_its_enum() {
        assert_eq!(options("show"), Show::FIXED.iter().map(|s| s.value()).collect::<Vec<_>>());
        assert_eq!(options("sort"), Sort::ALL.iter().map(|s| s.value().to_owned()).collect::<Vec<_>>());
        assert_eq!(options("export-what"), ExportWhat::FIXED.iter().map(|w| w.value()).collect::<Vec<_>>());
        let offered: Vec<inflow_core::export::Format> =
            options("export-format").iter().filter_map(|value| inflow_core::export::Format::parse(value)).collect();
        assert_eq!(offered.len(), options("export-format").len(), "every offered format is one Format::parse reads");
        for format in inflow_core::export::Format::ALL {
            assert!(offered.contains(&format), "{format:?} is offered");
        }
    }
}
