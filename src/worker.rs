//! The service worker's decisions, free of browser APIs so they run in native tests:
//! answer a content script's request against a [`TipStore`].

use inflow_core::anchor::{anchor_on_screen, describe};
use inflow_core::curation::{Action, CurationError, Parts, Status};
use inflow_core::element::describe_element;
use inflow_core::fields::FieldRule;
use inflow_core::redact::{self, PageIdentifier};
use inflow_core::screen::{literal_prefix, screen_pattern, ScreenRule};
use inflow_core::sharing::{self, AuthorChoices};
use inflow_core::sync::{Change, Hlc, Mutation};
use inflow_core::url::{page_address, screen_key};
use inflow_core::{anchor, NewTip, PageText, Selector, Timestamp, Tip, TipEdit, TipError, TipId, Visibility};

use crate::messages::{PlacedTip, Request, Response};
use crate::store::TipStore;

/// What the browser tells the worker about the sender and the moment.
pub struct Context<'a> {
    /// The sender's page address, as the browser reports it.
    pub page_url: &'a str,
    /// Whether the user has switched Inflow on for that page's site.
    pub site_active: bool,
    /// Who is capturing: the member's name on the team's server when connected (the
    /// server accepts shared tips only under that name), else the display name.
    pub author: &'a str,
    pub now: Timestamp,
    /// Ten random bytes for a new tip's id, and ten for the id of the mutation that
    /// shares it.
    pub random: [u8; 10],
    pub mutation_random: [u8; 10],
    /// The clock reading for a mutation made now.
    pub clock: Hlc,
    /// The team's screen rules (see [`inflow_core::screen`]).
    pub screen_rules: &'a [ScreenRule],
    /// The team's identifying fields (see [`inflow_core::fields`]), for the content script.
    pub identifying_fields: &'a [FieldRule],
}

/// Answers one request. Errors become [`Response::Error`] with a message for the user;
/// when one is returned, nothing was stored.
pub async fn handle(store: &impl TipStore, cx: &Context<'_>, request: Request) -> Response {
    match request {
        Request::PageOpened { text, blocks, settled, .. } => {
            page_tips(store, cx, &PageText::with_blocks(&text, blocks), settled).await
        }
        // Kept in the store's settings by the glue (see `crate::walkthrough`).
        Request::StepShown { .. } | Request::StepDone { .. } => Response::Noted,
        Request::ElementsMissing { .. } if !cx.site_active => Response::Flagged { count: 0 },
        Request::ElementsMissing { tip_ids } => {
            let mut count = 0;
            for id in tip_ids.into_iter().take(100) {
                let Ok(Some(mut tip)) = store.get(id).await else { continue };
                let own = own_page(store, &tip).await;
                if tip.target.is_element() && ours_to_flag(&tip, &own, cx.page_url) {
                    let reason = "the control it is pinned to was not found on the page it was captured on; the app may have changed";
                    flag_for_review(store, cx, &mut tip, reason).await;
                    count += 1;
                }
            }
            Response::Flagged { count }
        }
        Request::Capture { title, text, blocks, start, end, note, tags, visibility, identifiers, choices } => {
            if !cx.site_active {
                return error(not_active_message(cx.page_url));
            }
            let page = PageText::with_blocks(&text, blocks);
            let selectors = match describe(&page, start, end) {
                Ok(selectors) => selectors,
                Err(why) => return error(why.to_string()),
            };
            let anchor = anchor(&page, &selectors);
            let new_tip =
                NewTip { page_url: cx.page_url.to_owned(), page_title: title, note, tags, visibility, selectors };
            save(store, cx, new_tip, anchor, &identifiers, &choices).await
        }
        Request::CaptureElement { title, element, note, tags, visibility, identifiers, choices } => {
            if !cx.site_active {
                return error(not_active_message(cx.page_url));
            }
            let selector = match describe_element(&element) {
                Ok(selector) => selector,
                Err(why) => return error(why.to_string()),
            };
            let new_tip = NewTip {
                page_url: cx.page_url.to_owned(),
                page_title: title,
                note,
                tags,
                visibility,
                selectors: vec![selector],
            };
            save(store, cx, new_tip, None, &identifiers, &choices).await
        }
    }
}

/// Validates and stores a new tip; nothing is stored when any check fails. A shared tip
/// is made fit to share first (see [`fit_to_share`]).
async fn save(
    store: &impl TipStore,
    cx: &Context<'_>,
    new_tip: NewTip,
    anchor: Option<inflow_core::Anchor>,
    identifiers: &[PageIdentifier],
    choices: &AuthorChoices,
) -> Response {
    let id = TipId::new_v7(cx.now.unix_ms().max(0) as u64, cx.random);
    let mut tip = match new_tip.into_tip(id, cx.author, cx.now) {
        Ok(tip) => tip,
        Err(why) => return error(why.to_string()),
    };
    let own_address = tip.target.source.clone();
    if let Err(why) = fit_to_share(&mut tip, identifiers, choices, cx) {
        return error(why);
    }
    if let Err(why) = store_whole(store, cx, &tip).await {
        return error(why.to_string());
    }
    if tip.target.source != own_address {
        // Losing this only costs the review flag and the position hint on this page.
        let _ = store.remember_capture(tip.id, &own_address).await;
    }
    if tip.visibility == Visibility::Private && !identifiers.is_empty() {
        // Shared later, away from its page, it is redacted of this page's values too.
        let _ = store.remember_page_identifiers(tip.id, identifiers).await;
    }
    Response::Saved { tip: Box::new(tip), anchor, waiting: false }
}

/// A shared tip leaves the device naming its screen, never the record, with every
/// identifier replaced (the page's own values, `identifiers`, and every pattern; see
/// [`inflow_core::sharing`]). A private tip stays whole.
fn fit_to_share(
    tip: &mut Tip,
    identifiers: &[PageIdentifier],
    choices: &AuthorChoices,
    cx: &Context<'_>,
) -> Result<(), String> {
    if tip.visibility != Visibility::Team {
        return Ok(());
    }
    sharing::share_as_chosen(tip, identifiers, choices, cx.screen_rules)
        .map_err(|why| TipError::from(why).to_string())?;
    tip.validate().map_err(|why| why.to_string())
}

/// Stores a whole tip; a shared one is queued for the team's server (a `put`) in the same
/// transaction, and a private one never enters the outbox.
async fn store_whole(store: &impl TipStore, cx: &Context<'_>, tip: &Tip) -> Result<(), crate::store::StoreError> {
    match tip.visibility {
        Visibility::Team => {
            let mutation = Mutation {
                id: TipId::new_v7(cx.now.unix_ms().max(0) as u64, cx.mutation_random),
                hlc: cx.clock,
                change: Change::Put { tip: Box::new(tip.clone()) },
            };
            store.put_and_send(tip, &mutation).await
        }
        Visibility::Private => store.put(tip).await,
    }
}

async fn page_tips(store: &impl TipStore, cx: &Context<'_>, page: &PageText, settled: bool) -> Response {
    let inactive = Response::PageTips {
        active: false,
        placed: Vec::new(),
        unplaced: Vec::new(),
        other_records: Vec::new(),
        elements: Vec::new(),
        elements_captured_here: Vec::new(),
        identifying_fields: Vec::new(),
        walkthrough: None,
    };
    if !cx.site_active {
        return inactive;
    }
    let Ok(pattern) = screen_pattern(cx.page_url, cx.screen_rules) else { return inactive };
    // Tips of every record's same screen belong here: one range query on the part of the
    // pattern before its first wildcard, then the exact pattern test.
    let candidates = match store.with_screen_prefix(literal_prefix(&pattern)).await {
        Ok(tips) => tips,
        Err(why) => return error(why.to_string()),
    };
    let (elements, tips): (Vec<Tip>, Vec<Tip>) = candidates
        .into_iter()
        .filter(|tip| screen_pattern(&tip.screen, cx.screen_rules).is_ok_and(|p| p == pattern))
        .partition(|tip| tip.target.is_element());
    // Tips captured on another record's page of this screen have positions from that page.
    let mut own_pages = Vec::with_capacity(tips.len());
    for tip in &tips {
        own_pages.push(own_page(store, tip).await);
    }
    let own_keys: Vec<String> =
        own_pages.iter().zip(&tips).map(|(own, tip)| screen_key(own).unwrap_or_else(|_| tip.screen.clone())).collect();
    let selectors: Vec<(&str, &[Selector])> =
        tips.iter().zip(&own_keys).map(|(tip, key)| (key.as_str(), tip.target.selector.as_slice())).collect();
    let this_page = screen_key(cx.page_url).unwrap_or_default();
    let anchors = anchor_on_screen(page, &this_page, &selectors);
    let (mut placed, mut unplaced, mut other_records) = (Vec::new(), Vec::new(), Vec::new());
    for ((tip, anchor), (key, own)) in tips.into_iter().zip(anchors).zip(own_keys.into_iter().zip(own_pages)) {
        match anchor {
            Some(anchor) => placed.push(PlacedTip { tip, anchor }),
            // A tip about another patient's Metoprolol is not about this one: not a fault.
            None if key != this_page => other_records.push(tip),
            None => unplaced.push((tip, own)),
        }
    }
    if settled {
        for (tip, _) in unplaced.iter_mut().filter(|(tip, own)| lost_on_its_own_page(tip, own, cx.page_url, page)) {
            flag_for_review(
                store,
                cx,
                tip,
                "its text was not found on the page it was captured on; the app may have changed",
            )
            .await;
        }
    }
    let unplaced = unplaced.into_iter().map(|(tip, _)| tip).collect();
    let here = page_address(cx.page_url).unwrap_or_default();
    let mut elements_captured_here = Vec::new();
    for tip in &elements {
        if own_page(store, tip).await == here {
            elements_captured_here.push(tip.id);
        }
    }
    Response::PageTips {
        active: true,
        placed,
        unplaced,
        other_records,
        elements,
        elements_captured_here,
        identifying_fields: cx.identifying_fields.to_vec(),
        walkthrough: None, // the glue adds it (see `crate::walkthrough`)
    }
}

/// A shared tip whose quote is gone from the very page it was captured on, once that page
/// holds at least as much text as it did then (so a page still rendering does not count):
/// the app changed under it, and curators should look.
fn lost_on_its_own_page(tip: &Tip, own_page: &str, page_url: &str, page: &PageText) -> bool {
    let captured_end = tip.target.selector.iter().find_map(|s| match s {
        Selector::TextPosition { end, .. } => Some(*end as usize),
        _ => None,
    });
    ours_to_flag(tip, own_page, page_url) && captured_end.is_some_and(|end| page.raw_len() as usize >= end)
}

/// The address of the page a tip was captured on, as far as this device knows: a shared
/// tip names only its screen, and the device that captured it remembers its page.
async fn own_page(store: &impl TipStore, tip: &Tip) -> String {
    if tip.visibility == Visibility::Team && tip.target.source.contains('*') {
        if let Ok(Some(address)) = store.captured_on(tip.id).await {
            return address;
        }
    }
    tip.target.source.clone()
}

/// A shared tip captured on this very page (`own_page` is where it was captured), not
/// flagged yet, still in use.
fn ours_to_flag(tip: &Tip, own_page: &str, page_url: &str) -> bool {
    tip.visibility == Visibility::Team
        && page_address(page_url).is_ok_and(|here| own_page == here)
        && tip.curation.needs_review.is_none()
        && tip.curation.status != Status::Retired
}

/// Flags the tip for review here and queues the flag for the team. A failure only means
/// the next visit tries again.
async fn flag_for_review(store: &impl TipStore, cx: &Context<'_>, tip: &mut Tip, reason: &str) {
    let step = Action::Flag { reason: reason.to_owned() };
    // One page can flag several tips at once: each flag's id mixes in its tip's id.
    let mut random = cx.mutation_random;
    for (byte, tip_byte) in random.iter_mut().zip(&tip.id.as_bytes()[6..]) {
        *byte ^= tip_byte;
    }
    let id = TipId::new_v7(cx.now.unix_ms().max(0) as u64, random);
    tip.curation.take_step(cx.author, &step, cx.now, id, Parts::ALL);
    // A page opening reads the clock without advancing it; the flag is a new event.
    let hlc = Hlc::tick(cx.clock, cx.now.unix_ms().max(0) as u64, cx.clock.node);
    let mutation = Mutation { id, hlc, change: Change::Curate { tip_id: tip.id, by: cx.author.to_owned(), step } };
    let _ = store.put_and_send(tip, &mutation).await;
}

/// A reply, a helpful mark or a curation step from the side panel: applied to the stored tip with core's
/// rules and, for a shared tip, queued for the team in the same transaction. A private
/// tip's replies stay on this device with it.
pub async fn respond(store: &impl TipStore, cx: &Context<'_>, tip_id: TipId, change: Addition) -> Response {
    let mut tip = match store.get(tip_id).await {
        Ok(Some(tip)) => tip,
        Ok(None) => return error(GONE.to_owned()),
        Err(why) => return error(why.to_string()),
    };
    let mutation_id = TipId::new_v7(cx.now.unix_ms().max(0) as u64, cx.mutation_random);
    let change = match change {
        Addition::Reply(text) => {
            // A reply to a shared tip goes to the team: its identifiers go first.
            let text = match tip.visibility {
                Visibility::Team => redact::redact(&text, &[]).text,
                Visibility::Private => text,
            };
            let reply = inflow_core::model::Reply {
                id: TipId::new_v7(cx.now.unix_ms().max(0) as u64, cx.random),
                author: cx.author.to_owned(),
                created: cx.now,
                text,
            };
            if let Err(why) = tip.add_reply(reply.clone()) {
                return error(why.to_string());
            }
            Change::Reply { tip_id, reply }
        }
        Addition::Helpful(helpful) => {
            tip.set_helpful(cx.author, helpful);
            Change::Helpful { tip_id, by: cx.author.to_owned(), helpful }
        }
        Addition::Curate(mut step) => {
            // The panel offers only what the member's role allows; the server checks again.
            if tip.visibility == Visibility::Private {
                return error(CurationError::Private.to_string());
            }
            sharing::share_step(&mut step);
            if let Err(why) = step.validate(cx.now) {
                return error(why.to_string());
            }
            tip.curation.take_step(cx.author, &step, cx.now, mutation_id, Parts::ALL);
            Change::Curate { tip_id, by: cx.author.to_owned(), step }
        }
    };
    let stored = match tip.visibility {
        Visibility::Team => store.put_and_send(&tip, &Mutation { id: mutation_id, hlc: cx.clock, change }).await,
        Visibility::Private => store.put(&tip).await,
    };
    match stored {
        Ok(()) => Response::Saved { tip: Box::new(tip), anchor: None, waiting: false },
        Err(why) => error(why.to_string()),
    }
}

/// The author changes a tip's note, tags or who sees it, from the side panel or the tip's
/// card. Shared and staying shared, the team gets the new note and tags; shared for the
/// first time, the whole tip. Taken back to "only me", the team's copy is deleted (a
/// tombstone every device and the server apply) and this device keeps the tip, private,
/// under a new id, so that the tombstone cannot take it too.
pub async fn edit(
    store: &impl TipStore,
    cx: &Context<'_>,
    tip_id: TipId,
    edit: TipEdit,
    choices: &AuthorChoices,
) -> Response {
    let tip = match store.get(tip_id).await {
        Ok(Some(tip)) => tip,
        Ok(None) => return error(GONE.to_owned()),
        Err(why) => return error(why.to_string()),
    };
    let mut edited = tip.clone();
    if let Err(why) = edited.edit(cx.author, edit, cx.now) {
        return error(why.to_string());
    }
    // Shared for the first time, the whole tip is made fit to share, with the values of
    // the page it was captured on that this device kept; staying shared, the new note and
    // tags.
    let identifiers = match tip.visibility {
        Visibility::Private => store.page_identifiers(tip_id).await.unwrap_or_default(),
        Visibility::Team => Vec::new(),
    };
    let own_address = tip.target.source.clone();
    if let Err(why) = fit_to_share(&mut edited, &identifiers, choices, cx) {
        return error(why);
    }
    let mutation_id = TipId::new_v7(cx.now.unix_ms().max(0) as u64, cx.mutation_random);
    let send = |change| Mutation { id: mutation_id, hlc: cx.clock, change };
    let stored = match (tip.visibility, edited.visibility) {
        (Visibility::Private, Visibility::Private) => store.put(&edited).await,
        (Visibility::Private, Visibility::Team) => {
            store.put_and_send(&edited, &send(Change::Put { tip: Box::new(edited.clone()) })).await
        }
        (Visibility::Team, Visibility::Team) => {
            let patch = Change::Patch {
                tip_id,
                note: Some(edited.note.clone()),
                tags: Some(edited.tags.clone()),
                visibility: None,
                page_title: None,
            };
            store.put_and_send(&edited, &send(patch)).await
        }
        (Visibility::Team, Visibility::Private) => {
            edited.id = TipId::new_v7(cx.now.unix_ms().max(0) as u64, cx.random);
            edited.curation = Default::default(); // curation is the team's, and it no longer sees the tip
            store.replace_and_send(tip_id, Some(&edited), Some(&send(Change::Delete { tip_id }))).await
        }
    };
    if stored.is_ok() && tip.visibility == Visibility::Private && edited.target.source != own_address {
        let _ = store.remember_capture(edited.id, &own_address).await;
    }
    match stored {
        Ok(()) => Response::Saved { tip: Box::new(edited), anchor: None, waiting: false },
        Err(why) => error(why.to_string()),
    }
}

/// What the edit form previews of a tip once `edit` is saved (see
/// [`crate::capture_preview::edit_pieces`]): with the values of the page a private tip was
/// captured on, which [`edit`] redacts as well. `None` when the tip is gone.
pub async fn edit_preview(
    store: &impl TipStore,
    tip_id: TipId,
    edit: &TipEdit,
    choices: &AuthorChoices,
) -> Option<Vec<Vec<crate::capture_preview::Piece>>> {
    let tip = store.get(tip_id).await.ok().flatten()?;
    let identifiers = match tip.visibility {
        Visibility::Private => store.page_identifiers(tip_id).await.unwrap_or_default(),
        Visibility::Team => Vec::new(),
    };
    Some(crate::capture_preview::edit_pieces(&tip, edit, &identifiers, choices))
}

/// The author deletes a tip: gone from this device, and, when shared, from the team's
/// server and every teammate's device (a tombstone). The answer carries the tip, for the
/// few seconds in which the user may undo ([`restore`]). Curators retire others' tips;
/// they cannot delete them.
pub async fn delete(store: &impl TipStore, cx: &Context<'_>, tip_id: TipId) -> Response {
    let tip = match store.get(tip_id).await {
        Ok(Some(tip)) => tip,
        Ok(None) => return error(GONE.to_owned()),
        Err(why) => return error(why.to_string()),
    };
    if tip.author != cx.author {
        return error(inflow_core::TipError::NotTheAuthor { author: tip.author }.to_string());
    }
    let tombstone = (tip.visibility == Visibility::Team).then(|| Mutation {
        id: TipId::new_v7(cx.now.unix_ms().max(0) as u64, cx.mutation_random),
        hlc: cx.clock,
        change: Change::Delete { tip_id },
    });
    match store.replace_and_send(tip_id, None, tombstone.as_ref()).await {
        Ok(()) => Response::Deleted { tip: Box::new(tip) },
        Err(why) => error(why.to_string()),
    }
}

/// Undoes a delete: the tip comes back as it was. Shared, it is sent again with a clock
/// newer than its tombstone's, which brings it back on the server and every device too.
pub async fn restore(store: &impl TipStore, cx: &Context<'_>, tip: Tip) -> Response {
    if tip.author != cx.author {
        return error(inflow_core::TipError::NotTheAuthor { author: tip.author }.to_string());
    }
    let mut tip = tip;
    if let Err(why) = tip
        .validate()
        .map_err(|why| why.to_string())
        .and_then(|()| fit_to_share(&mut tip, &[], &AuthorChoices::default(), cx))
    {
        return error(why);
    }
    match store.get(tip.id).await {
        Ok(None) => {}
        Ok(Some(_)) => return error("That tip is here already.".to_owned()),
        Err(why) => return error(why.to_string()),
    }
    // Shared, it is sent again whole, with this newer clock: it outruns its tombstone.
    match store_whole(store, cx, &tip).await {
        Ok(()) => Response::Saved { tip: Box::new(tip), anchor: None, waiting: false },
        Err(why) => error(why.to_string()),
    }
}

const GONE: &str = "That tip is no longer here; it may have been deleted.";

/// What a teammate adds to a tip from the side panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addition {
    Reply(String),
    Helpful(bool),
    /// A curation step (see [`inflow_core::curation`]).
    Curate(Action),
}

/// The message shown when Inflow is used on a site the user has not switched it on for.
pub fn not_active_message(page_url: &str) -> String {
    let site = inflow_core::url::PageUrl::parse(page_url)
        .map(|u| u.host.to_owned())
        .unwrap_or_else(|_| "this page".to_owned());
    format!("Inflow is not switched on for {site}. Open Inflow's options and add this site to use tips here.")
}

fn error(message: String) -> Response {
    Response::Error { message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use inflow_core::redact::Kind;
    use inflow_core::text::BlockKinds;
    use inflow_core::Visibility;

    const PAGE: &str = "Orders for Jane Doe\nMetoprolol 25 mg PO BID\nLisinopril 10 mg PO daily\n";
    const URL: &str = "http://127.0.0.1:8700/patients/1/orders";

    fn cx(page_url: &str, site_active: bool, random: u8) -> Context<'_> {
        Context {
            page_url,
            site_active,
            author: "Dana",
            now: Timestamp(1_700_000_000_000),
            random: [random; 10],
            mutation_random: [random ^ 0xff; 10],
            clock: Hlc { wall_ms: 1_700_000_000_000, counter: 0, node: 9 },
            screen_rules: &[],
            identifying_fields: &[],
        }
    }

    fn capture(start: u32, end: u32, note: &str) -> Request {
        Request::Capture {
            title: "Orders".into(),
            text: PAGE.into(),
            blocks: Default::default(),
            start,
            end,
            note: note.into(),
            tags: vec!["orders".into()],
            visibility: Visibility::Private,
            identifiers: Vec::new(),
            choices: AuthorChoices::default(),
        }
    }

    /// `capture`, shared with the team.
    fn shared_capture(start: u32, end: u32, note: &str) -> Request {
        let mut request = capture(start, end, note);
        if let Request::Capture { visibility, .. } = &mut request {
            *visibility = Visibility::Team;
        }
        request
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        // The memory store never suspends, so one poll finishes every future here.
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("memory store future suspended"),
        }
    }

    #[test]
    fn a_capture_keeps_the_kind_of_block_its_quote_is_in() {
        let store = MemoryStore::default();
        let start = PAGE.find("Lisinopril").expect("present") as u32;
        let row = PAGE.find("Metoprolol").expect("present") as u32;
        let blocks: BlockKinds =
            serde_json::from_str(&format!(r#"{{"marks":[0,0,{row},1],"kinds":["h1 < header","td.drug < tr"]}}"#))
                .expect("the content script's shape");
        let mut request = capture(start, start + 16, "Check renal labs first");
        if let Request::Capture { blocks: sent, .. } = &mut request {
            *sent = blocks;
        }
        let saved = block_on(handle(&store, &cx(URL, true, 1), request));
        let Response::Saved { tip, .. } = saved else { panic!("not saved: {saved:?}") };
        assert!(
            matches!(&tip.target.selector[0], Selector::TextQuote { block: Some(kind), .. } if kind == "td.drug < tr"),
            "{:?}",
            tip.target.selector
        );
    }

    #[test]
    fn a_captured_tip_is_placed_again_when_the_page_reopens() {
        let store = MemoryStore::default();
        let start = PAGE.find("Lisinopril").expect("present") as u32;
        let saved = block_on(handle(&store, &cx(URL, true, 1), capture(start, start + 16, "Check renal labs first")));
        let Response::Saved { tip, anchor: Some(anchor), .. } = saved else { panic!("not saved: {saved:?}") };
        assert_eq!((anchor.start, anchor.end), (start, start + 16));
        assert_eq!(tip.target.quote(), Some("Lisinopril 10 mg"));

        let reopened = format!("Banner that arrived later\n{PAGE}");
        let answer = block_on(handle(
            &store,
            &cx(&format!("{URL}#top"), true, 2),
            Request::PageOpened {
                title: "Orders".into(),
                text: reopened.clone(),
                blocks: Default::default(),
                settled: true,
            },
        ));
        let Response::PageTips { active: true, placed, unplaced, .. } = answer else { panic!("unexpected {answer:?}") };
        assert!(unplaced.is_empty());
        assert_eq!(placed.len(), 1);
        let found = &reopened[placed[0].anchor.start as usize..placed[0].anchor.end as usize];
        assert_eq!(found, "Lisinopril 10 mg");
    }

    #[test]
    fn bad_captures_store_nothing_and_say_why() {
        let store = MemoryStore::default();
        let blank = block_on(handle(&store, &cx(URL, true, 1), capture(19, 20, "")));
        assert_eq!(blank, Response::Error { message: "Select some text on the page first.".into() });
        let long = block_on(handle(&store, &cx(URL, true, 1), capture(0, 6, &"x".repeat(10_001))));
        assert!(matches!(&long, Response::Error { message } if message.contains("note is too long")), "{long:?}");
        let inactive = block_on(handle(&store, &cx("https://mail.example.com/inbox", false, 1), capture(0, 6, "")));
        assert!(
            matches!(&inactive, Response::Error { message } if message.contains("not switched on for mail.example.com")),
            "{inactive:?}"
        );
        let outside = block_on(handle(&store, &cx(URL, true, 1), capture(0, 9_999, "")));
        assert!(matches!(outside, Response::Error { .. }));
        assert_eq!(block_on(store.count()), Ok(0));
    }

    #[test]
    fn an_element_tip_is_stored_and_handed_back_as_an_element() {
        let store = MemoryStore::default();
        let element = inflow_core::element::ElementDescription {
            tag: "button".into(),
            text: Some("Sign note".into()),
            path: vec![("main".into(), 1), ("button".into(), 1)],
            ..Default::default()
        };
        let request = Request::CaptureElement {
            title: "Notes".into(),
            element,
            note: "Sign within the hour".into(),
            tags: vec![],
            visibility: Visibility::Team,
            identifiers: Vec::new(),
            choices: AuthorChoices::default(),
        };
        let saved = block_on(handle(&store, &cx(URL, true, 3), request));
        assert!(matches!(saved, Response::Saved { anchor: None, .. }), "{saved:?}");
        let answer = block_on(handle(
            &store,
            &cx(URL, true, 4),
            Request::PageOpened { title: String::new(), text: PAGE.into(), blocks: Default::default(), settled: true },
        ));
        let Response::PageTips { placed, unplaced, elements, elements_captured_here, .. } = answer else {
            panic!("unexpected {answer:?}")
        };
        assert!(placed.is_empty() && unplaced.is_empty());
        assert_eq!(elements.len(), 1);
        assert_eq!(elements_captured_here, vec![elements[0].id], "pinned on this very page");
        let bad = Request::CaptureElement {
            title: String::new(),
            element: Default::default(),
            note: String::new(),
            tags: vec![],
            visibility: Visibility::Private,
            identifiers: Vec::new(),
            choices: AuthorChoices::default(),
        };
        assert!(matches!(block_on(handle(&store, &cx(URL, true, 5), bad)), Response::Error { .. }));
    }

    #[test]
    fn a_shared_tip_leaves_with_its_screen_and_no_identifier_and_still_anchors_on_another_patient() {
        let store = MemoryStore::default();
        let page = "Jane Doe MRN RG-004817 DOB 1951-03-14 Location 4 West, Bed 12 Attending Dr. A. Okafor \
                    Orders: Metoprolol 25 mg PO BID. Notes: Jane Doe, 73 y/o, prefers mornings.";
        let other = "Robert Lee MRN RG-338812 DOB 1948-07-02 Location 5 East, Bed 3 Attending Dr. B. Ruiz \
                     Orders: Lisinopril 10 mg PO daily. Notes: Robert Lee, 73 y/o, prefers mornings.";
        let quote = "Jane Doe, 73 y/o";
        let start = page.rfind(quote).expect("present") as u32;
        let identifiers = vec![
            PageIdentifier { kind: redact::Kind::Name, value: "Jane Doe".into() },
            PageIdentifier { kind: redact::Kind::Mrn, value: "RG-004817".into() },
            PageIdentifier { kind: redact::Kind::Date, value: "1951-03-14".into() },
        ];
        let request = Request::Capture {
            title: "Jane Doe \u{2014} Orders \u{2014} Riverside General EMR".into(),
            text: page.into(),
            blocks: Default::default(),
            start,
            end: start + quote.len() as u32,
            note: "Ask Jane (DOB 03/14/1951) before 9".into(),
            tags: vec!["Doe".into()],
            visibility: Visibility::Team,
            identifiers: identifiers.clone(),
            choices: AuthorChoices::default(),
        };
        let url = "http://127.0.0.1:8700/patients/1/orders?visit=88123401#top";
        let answer = block_on(handle(&store, &cx(url, true, 1), request));
        let Response::Saved { tip, .. } = answer else { panic!("unexpected {answer:?}") };
        assert_eq!(tip.target.source, "http://127.0.0.1:8700/patients/*/orders?visit=*");
        assert_eq!(tip.page_title, "[name] \u{2014} Orders \u{2014} Riverside General EMR");
        assert_eq!(tip.note, "Ask [name] (DOB [date]) before 9");
        assert_eq!(tip.tags, vec!["[name]".to_owned()]);
        assert_eq!(tip.target.quote(), Some("[name], 73 y/o"));
        // What is queued for the server holds none of the patient's values.
        let queued = serde_json::to_string(&block_on(store.outbox(10)).expect("outbox")).expect("json");
        for value in ["Jane", "Doe", "004817", "1951", "88123401", "patients/1"] {
            assert!(!queued.contains(value), "{value} in {queued}");
        }
        // The redacted quote finds the same sentence on another patient's orders.
        let opened = block_on(handle(
            &store,
            &cx("http://127.0.0.1:8700/patients/2/orders?visit=99100022", true, 2),
            Request::PageOpened { title: String::new(), text: other.into(), blocks: Default::default(), settled: true },
        ));
        let Response::PageTips { placed, .. } = opened else { panic!("unexpected {opened:?}") };
        assert_eq!(placed.len(), 1);
        let at = other.rfind("Robert Lee, 73 y/o").expect("present") as u32;
        assert_eq!((placed[0].anchor.start, placed[0].anchor.end), (at, at + "Robert Lee, 73 y/o".len() as u32));
        // On its own page, the device still knows the tip is this page's own.
        let own = block_on(handle(
            &store,
            &cx(url, true, 3),
            Request::PageOpened { title: String::new(), text: page.into(), blocks: Default::default(), settled: true },
        ));
        let Response::PageTips { placed, .. } = own else { panic!("unexpected {own:?}") };
        assert_eq!(placed[0].anchor.start, start);
        // A private tip stays whole...
        let mut private = capture(0, 6, "Jane Doe's; RG-004817");
        if let Request::Capture { identifiers: ids, .. } = &mut private {
            ids.clone_from(&identifiers);
        }
        let Response::Saved { tip, .. } = block_on(handle(&store, &cx(url, true, 4), private)) else { panic!() };
        assert_eq!(tip.note, "Jane Doe's; RG-004817");
        assert_eq!(tip.target.source, "http://127.0.0.1:8700/patients/1/orders?visit=88123401#top");
        // ...until it is shared from the side panel, away from its page: the page's values
        // this device kept are redacted then (the MRN has no label here, the name is the page's).
        // The share step previews it so, with the words the author hides too.
        let share =
            TipEdit { note: format!("{}; see the binder", tip.note), tags: vec![], visibility: Visibility::Team };
        let choices = AuthorChoices { hide: vec!["the binder".into()], keep: vec![] };
        let preview = block_on(edit_preview(&store, tip.id, &share, &choices)).expect("the tip is there");
        let note: Vec<(Kind, bool)> = preview[4]
            .iter()
            .filter_map(|piece| match piece {
                crate::capture_preview::Piece::Replaced { kind, undoable, .. } => Some((*kind, *undoable)),
                _ => None,
            })
            .collect();
        assert_eq!(note, [(Kind::Name, false), (Kind::Mrn, false), (Kind::Hidden, false)], "{preview:?}");
        let Response::Saved { tip: shared, .. } = block_on(edit(&store, &cx(url, true, 5), tip.id, share, &choices))
        else {
            panic!()
        };
        assert_eq!(shared.note, "[name]'s; [MRN]; see [hidden]");
        assert_eq!(shared.target.source, "http://127.0.0.1:8700/patients/*/orders?visit=*");
        assert_eq!(block_on(store.captured_on(shared.id)).expect("read").as_deref(), Some(url));
    }

    #[test]
    fn a_tip_shows_on_every_patients_same_screen_and_only_shared_tips_are_queued() {
        let store = MemoryStore::default();
        let start = PAGE.find("Metoprolol").expect("present") as u32;
        let shared = shared_capture(start, start + 10, "Hold if HR < 60");
        assert!(matches!(block_on(handle(&store, &cx(URL, true, 1), shared)), Response::Saved { .. }));
        assert!(matches!(block_on(handle(&store, &cx(URL, true, 2), capture(0, 6, "mine"))), Response::Saved { .. }));
        let queued = block_on(store.outbox(10)).expect("outbox");
        assert_eq!(queued.len(), 1, "the private tip stays off the outbox");
        assert!(matches!(&queued[0].change, Change::Put { tip } if tip.note == "Hold if HR < 60"));

        let other_patient = "http://127.0.0.1:8700/patients/2/orders";
        let answer = block_on(handle(
            &store,
            &cx(other_patient, true, 3),
            Request::PageOpened { title: String::new(), text: PAGE.into(), blocks: Default::default(), settled: true },
        ));
        let Response::PageTips { placed, .. } = answer else { panic!("unexpected {answer:?}") };
        assert_eq!(placed.len(), 2, "both tips of patient 1's orders show on patient 2's orders");
        let elsewhere = block_on(handle(
            &store,
            &cx("http://127.0.0.1:8700/patients-archive/2/orders", true, 4),
            Request::PageOpened { title: String::new(), text: PAGE.into(), blocks: Default::default(), settled: true },
        ));
        assert!(
            matches!(elsewhere, Response::PageTips { ref placed, .. } if placed.is_empty()),
            "a screen that merely shares the prefix gets nothing"
        );
    }

    #[test]
    fn the_author_edits_and_takes_a_shared_tip_back_and_the_team_hears_of_it() {
        let store = MemoryStore::default();
        let start = PAGE.find("Metoprolol").expect("present") as u32;
        let Response::Saved { tip, .. } =
            block_on(handle(&store, &cx(URL, true, 1), shared_capture(start, start + 10, "Hold if HR < 60")))
        else {
            panic!("saved")
        };
        let queued = block_on(store.outbox_len()).expect("outbox");
        let change = |note: &str, visibility| TipEdit { note: note.into(), tags: vec!["vitals".into()], visibility };

        let mut sam = cx(URL, true, 2);
        sam.author = "Sam";
        let refused = block_on(edit(&store, &sam, tip.id, change("mine", Visibility::Team), &AuthorChoices::default()));
        assert!(
            matches!(&refused, Response::Error { message } if message.contains("Only the tip's author (Dana)")),
            "{refused:?}"
        );
        let empty = block_on(edit(
            &store,
            &cx(URL, true, 3),
            tip.id,
            change("  ", Visibility::Team),
            &AuthorChoices::default(),
        ));
        assert!(
            matches!(&empty, Response::Error { message } if message.contains("Write a note before sharing")),
            "{empty:?}"
        );
        assert_eq!(block_on(store.outbox_len()).expect("outbox"), queued, "a refused edit changes nothing");

        let answer = block_on(edit(
            &store,
            &cx(URL, true, 4),
            tip.id,
            change("Hold if HR < 55 now", Visibility::Team),
            &AuthorChoices::default(),
        ));
        assert!(
            matches!(&answer, Response::Saved { tip, .. } if tip.note == "Hold if HR < 55 now" && tip.tags == ["vitals"]),
            "{answer:?}"
        );
        let outbox = block_on(store.outbox(10)).expect("outbox");
        assert!(
            outbox
                .iter()
                .any(|m| matches!(&m.change, Change::Patch { note: Some(n), .. } if n == "Hold if HR < 55 now")),
            "{outbox:?}"
        );

        // Taken back: the team's copy is deleted, and this device keeps it under a new id.
        let answer = block_on(edit(
            &store,
            &cx(URL, true, 5),
            tip.id,
            change("only for me", Visibility::Private),
            &AuthorChoices::default(),
        ));
        let Response::Saved { tip: private, .. } = answer else { panic!("unexpected {answer:?}") };
        assert_ne!(private.id, tip.id);
        assert_eq!(private.visibility, Visibility::Private);
        assert_eq!(block_on(store.get(tip.id)).expect("read"), None);
        let outbox = block_on(store.outbox(10)).expect("outbox");
        assert!(
            outbox.iter().any(|m| matches!(&m.change, Change::Delete { tip_id } if *tip_id == tip.id)),
            "a tombstone for the team: {outbox:?}"
        );
        assert!(!outbox.iter().any(|m| m.change.tip_id() == private.id), "the private copy never leaves");
    }

    #[test]
    fn the_author_deletes_a_tip_and_can_undo_it() {
        let store = MemoryStore::default();
        let start = PAGE.find("Lisinopril").expect("present") as u32;
        let Response::Saved { tip, .. } =
            block_on(handle(&store, &cx(URL, true, 1), shared_capture(start, start + 10, "Renal labs first")))
        else {
            panic!("saved")
        };
        let mut sam = cx(URL, true, 2);
        sam.author = "Sam";
        assert!(
            matches!(block_on(delete(&store, &sam, tip.id)), Response::Error { .. }),
            "only the author deletes; curators retire"
        );

        let Response::Deleted { tip: deleted } = block_on(delete(&store, &cx(URL, true, 3), tip.id)) else {
            panic!("deleted")
        };
        assert_eq!(block_on(store.get(tip.id)).expect("read"), None);
        let outbox = block_on(store.outbox(10)).expect("outbox");
        assert!(
            outbox.iter().any(|m| matches!(&m.change, Change::Delete { tip_id } if *tip_id == tip.id)),
            "{outbox:?}"
        );
        let page = block_on(handle(
            &store,
            &cx(URL, true, 4),
            Request::PageOpened { title: String::new(), text: PAGE.into(), blocks: Default::default(), settled: true },
        ));
        assert!(matches!(page, Response::PageTips { ref placed, .. } if placed.is_empty()), "gone from the page");

        // Undo: back as it was, sent again with a newer clock than its tombstone's.
        let mut later = cx(URL, true, 5);
        later.clock = Hlc { wall_ms: later.clock.wall_ms + 1, ..later.clock };
        assert!(matches!(block_on(restore(&store, &later, *deleted.clone())), Response::Saved { .. }));
        assert_eq!(block_on(store.get(tip.id)).expect("read").map(|t| t.note), Some("Renal labs first".to_owned()));
        let outbox = block_on(store.outbox(10)).expect("outbox");
        let put = outbox
            .iter()
            .filter(|m| matches!(&m.change, Change::Put { tip: t } if t.id == tip.id))
            .map(|m| m.hlc)
            .max();
        let tombstone = outbox.iter().find(|m| matches!(&m.change, Change::Delete { .. })).map(|m| m.hlc);
        assert!(put > tombstone, "the restored tip outruns its tombstone");
        assert!(matches!(block_on(restore(&store, &later, *deleted)), Response::Error { .. }), "restored once");
    }

    #[test]
    fn replies_and_helpful_marks_are_stored_and_queued_for_shared_tips_only() {
        let store = MemoryStore::default();
        let start = PAGE.find("Metoprolol").expect("present") as u32;
        let shared = shared_capture(start, start + 10, "Hold if HR < 60");
        let Response::Saved { tip: shared, .. } = block_on(handle(&store, &cx(URL, true, 1), shared)) else {
            panic!("not saved")
        };
        let Response::Saved { tip: private, .. } = block_on(handle(&store, &cx(URL, true, 2), capture(0, 6, "mine")))
        else {
            panic!("not saved")
        };
        let queued_before = block_on(store.outbox_len()).expect("outbox");

        let answer =
            block_on(respond(&store, &cx(URL, true, 3), shared.id, Addition::Reply("It moved to Favourites.".into())));
        assert!(
            matches!(&answer, Response::Saved { tip, .. } if tip.replies.len() == 1 && tip.replies[0].author == "Dana"),
            "{answer:?}"
        );
        block_on(respond(&store, &cx(URL, true, 4), shared.id, Addition::Helpful(true)));
        assert_eq!(block_on(store.get(shared.id)).expect("read").map(|t| t.helpful), Some(vec!["Dana".to_owned()]));
        assert_eq!(block_on(store.outbox_len()).expect("outbox"), queued_before + 2, "both go to the team");

        block_on(respond(&store, &cx(URL, true, 5), private.id, Addition::Reply("Note to self".into())));
        assert_eq!(
            block_on(store.outbox_len()).expect("outbox"),
            queued_before + 2,
            "a private tip's reply stays here"
        );
        let blank = block_on(respond(&store, &cx(URL, true, 6), shared.id, Addition::Reply("  ".into())));
        assert_eq!(blank, Response::Error { message: "Write something to reply.".into() });
    }

    #[test]
    fn curation_steps_are_stored_and_queued_and_private_tips_are_not_curated() {
        let store = MemoryStore::default();
        let start = PAGE.find("Metoprolol").expect("present") as u32;
        let Response::Saved { tip: shared, .. } =
            block_on(handle(&store, &cx(URL, true, 1), shared_capture(start, start + 10, "Hold if HR < 60")))
        else {
            panic!("not saved")
        };
        let Response::Saved { tip: private, .. } = block_on(handle(&store, &cx(URL, true, 2), capture(0, 6, "mine")))
        else {
            panic!("not saved")
        };
        let verify_by = inflow_core::curation::default_verify_by(cx(URL, true, 3).now);
        let answer =
            block_on(respond(&store, &cx(URL, true, 3), shared.id, Addition::Curate(Action::Approve { verify_by })));
        assert!(
            matches!(&answer, Response::Saved { tip, .. } if tip.curation.status == Status::Approved),
            "{answer:?}"
        );
        let queued = block_on(store.outbox(10)).expect("outbox");
        assert!(
            queued
                .iter()
                .any(|m| matches!(&m.change, Change::Curate { by, step: Action::Approve { .. }, .. } if by == "Dana")),
            "{queued:?}"
        );
        let refused = block_on(respond(&store, &cx(URL, true, 4), private.id, Addition::Curate(Action::Propose)));
        assert!(
            matches!(&refused, Response::Error { message } if message.contains("private tips cannot be curated")),
            "{refused:?}"
        );
        let past = block_on(respond(
            &store,
            &cx(URL, true, 5),
            shared.id,
            Addition::Curate(Action::Approve { verify_by: Timestamp(0) }),
        ));
        assert!(matches!(&past, Response::Error { message } if message.contains("verify-again date")), "{past:?}");
    }

    #[test]
    fn a_shared_tip_lost_on_its_own_page_is_flagged_for_review_once() {
        let store = MemoryStore::default();
        let start = PAGE.find("Lisinopril").expect("present") as u32;
        block_on(handle(&store, &cx(URL, true, 1), shared_capture(start, start + 16, "Check renal labs first")));
        let queued = block_on(store.outbox_len()).expect("outbox");
        let open = |text: String, url: &str, n: u8| {
            block_on(handle(
                &store,
                &cx(url, true, n),
                Request::PageOpened { title: String::new(), text, blocks: Default::default(), settled: true },
            ))
        };

        // Still rendering (less text than at capture): not a reason to flag.
        open("Orders for Jane Doe\n".into(), URL, 2);
        // Another patient's page: the quote may simply not be there. It is about another
        // record, not in need of review.
        let other =
            open(PAGE.replace("Lisinopril 10 mg", "Amlodipine 5 mg  "), "http://127.0.0.1:8700/patients/2/orders", 3);
        let Response::PageTips { unplaced, other_records, .. } = other else { panic!("unexpected {other:?}") };
        assert_eq!((unplaced.len(), other_records.len()), (0, 1), "quiet on another record");
        // The app navigated here (the address changed) but has not drawn the screen yet: the
        // text is the previous screen's, as long as this one's, and not settled.
        let unsettled = PAGE.replace("Lisinopril 10 mg", "Patient list ...");
        block_on(handle(
            &store,
            &cx(URL, true, 6),
            Request::PageOpened { title: String::new(), text: unsettled, blocks: Default::default(), settled: false },
        ));
        assert_eq!(block_on(store.outbox_len()).expect("outbox"), queued, "nothing flagged yet");

        // The page it was captured on, fully there, without the quote: the app changed.
        let changed = PAGE.replace("Lisinopril 10 mg", "Lisinopril (see new order set)");
        let answer = open(changed.clone(), URL, 4);
        let Response::PageTips { unplaced, .. } = answer else { panic!("unexpected {answer:?}") };
        assert!(unplaced[0]
            .curation
            .needs_review
            .as_ref()
            .is_some_and(|f| f.reason.contains("not found on the page it was captured on")));
        let outbox = block_on(store.outbox(10)).expect("outbox");
        assert!(
            outbox.iter().any(|m| matches!(&m.change, Change::Curate { step: Action::Flag { .. }, .. })),
            "{outbox:?}"
        );
        open(changed, URL, 5);
        assert_eq!(block_on(store.outbox_len()).expect("outbox"), queued + 1, "flagged once, not on every visit");
    }

    #[test]
    fn a_shared_element_tip_missing_from_its_own_page_is_flagged_for_review() {
        let store = MemoryStore::default();
        let element = inflow_core::element::ElementDescription {
            tag: "button".into(),
            text: Some("Sign note".into()),
            path: vec![("button".into(), 1)],
            ..Default::default()
        };
        let request = Request::CaptureElement {
            title: "Notes".into(),
            element,
            note: "Sign within the hour".into(),
            tags: vec![],
            visibility: Visibility::Team,
            identifiers: Vec::new(),
            choices: AuthorChoices::default(),
        };
        let Response::Saved { tip, .. } = block_on(handle(&store, &cx(URL, true, 3), request)) else {
            panic!("not saved")
        };
        let missing = || Request::ElementsMissing { tip_ids: vec![tip.id] };
        assert_eq!(
            block_on(handle(&store, &cx("http://127.0.0.1:8700/patients/2/orders", true, 4), missing())),
            Response::Flagged { count: 0 },
            "another record's page may lack it"
        );
        assert_eq!(block_on(handle(&store, &cx(URL, true, 5), missing())), Response::Flagged { count: 1 });
        assert!(block_on(store.get(tip.id))
            .expect("read")
            .is_some_and(|t| t.curation.needs_review.is_some_and(|f| f.reason.contains("control it is pinned to"))));
        assert_eq!(block_on(handle(&store, &cx(URL, true, 6), missing())), Response::Flagged { count: 0 }, "once");
    }

    #[test]
    fn tips_of_other_screens_and_inactive_sites_are_not_shown() {
        let store = MemoryStore::default();
        block_on(handle(&store, &cx(URL, true, 1), capture(0, 6, "")));
        let other = block_on(handle(
            &store,
            &cx("http://127.0.0.1:8700/patients/1/notes", true, 2),
            Request::PageOpened { title: String::new(), text: PAGE.into(), blocks: Default::default(), settled: true },
        ));
        assert_eq!(
            other,
            Response::PageTips {
                active: true,
                placed: vec![],
                unplaced: vec![],
                other_records: vec![],
                elements: vec![],
                elements_captured_here: vec![],
                identifying_fields: vec![],
                walkthrough: None,
            }
        );
        let inactive = block_on(handle(
            &store,
            &cx(URL, false, 2),
            Request::PageOpened { title: String::new(), text: PAGE.into(), blocks: Default::default(), settled: true },
        ));
        assert_eq!(
            inactive,
            Response::PageTips {
                active: false,
                placed: vec![],
                unplaced: vec![],
                other_records: vec![],
                elements: vec![],
                elements_captured_here: vec![],
                identifying_fields: vec![],
                walkthrough: None,
            }
        );
    }

    #[test]
    fn an_active_page_hears_the_team_identifying_fields_and_an_inactive_one_does_not() {
        let store = MemoryStore::default();
        let fields = inflow_core::fields::parse_field_rules(&["mrn: #banner .chart-no".to_owned()]).unwrap();
        let opened = |active| {
            let cx = Context { identifying_fields: &fields, ..cx(URL, active, 1) };
            let request = Request::PageOpened {
                title: String::new(),
                text: PAGE.into(),
                blocks: Default::default(),
                settled: true,
            };
            match block_on(handle(&store, &cx, request)) {
                Response::PageTips { identifying_fields, .. } => identifying_fields,
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(opened(true), fields, "the content script reads them when a tip is captured");
        assert!(opened(false).is_empty(), "a site Inflow is off on learns nothing of the team");
    }
}
