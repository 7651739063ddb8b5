//! The message protocol between the content script (plain JS) and the service worker.
//!
//! Every message is a JSON object with a `type` field, a serde tag of one of the enums
//! here. The content script's side lives in `extension/content/`; a tidy test below
//! holds every `type` it sends or expects to these enums, and the other way round.

use inflow_core::element::ElementDescription;
use inflow_core::redact::PageIdentifier;
use inflow_core::sharing::AuthorChoices;
use inflow_core::text::BlockKinds;
use inflow_core::{Anchor, Tip, Visibility};
use serde::{Deserialize, Serialize};

/// A content script's message: a [`Request`], and the page's `location.href` when it was
/// sent. The address follows the app's own client-side navigation, which the browser's
/// record of the sender does not; the worker takes it only within the origin the browser
/// recorded (see [`inflow_core::url::address_now`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContentMessage {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(flatten)]
    pub request: Request,
}

/// What the content script asks of the worker.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Request {
    /// The page loaded or its text changed: which tips belong here, and where. `settled`:
    /// the text has not changed for a while (an app's own navigation changes the address
    /// before the new screen is drawn); only a settled page is evidence that a tip's text is
    /// gone from it.
    #[serde(rename_all = "camelCase")]
    PageOpened {
        title: String,
        text: String,
        /// The kinds of block the text's parts are in (see `BlockKinds`).
        #[serde(default)]
        blocks: BlockKinds,
        #[serde(default)]
        settled: bool,
    },
    /// Save the raw UTF-16 range `start..end` of `text` as a tip.
    #[serde(rename_all = "camelCase")]
    Capture {
        title: String,
        text: String,
        #[serde(default)]
        blocks: BlockKinds,
        start: u32,
        end: u32,
        #[serde(default)]
        note: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        visibility: Visibility,
        /// The values of the page's identifying fields, for redacting a shared tip (see
        /// `extension/content/identifiers.js`).
        #[serde(default)]
        identifiers: Vec<PageIdentifier>,
        /// What the author chose in the form's preview: words to hide, names to keep.
        #[serde(default)]
        choices: AuthorChoices,
    },
    /// Save a tip pinned to an element the user chose (context menu).
    #[serde(rename_all = "camelCase")]
    CaptureElement {
        title: String,
        element: ElementDescription,
        #[serde(default)]
        note: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        visibility: Visibility,
        #[serde(default)]
        identifiers: Vec<PageIdentifier>,
        #[serde(default)]
        choices: AuthorChoices,
    },
    /// Element tips of this page that the page, settled, does not have (see
    /// `watchMissingElements` in the content script's `pins.js`).
    #[serde(rename_all = "camelCase")]
    ElementsMissing { tip_ids: Vec<inflow_core::TipId> },
    /// The walkthrough's step `number` was shown on its own screen; `found`: its text or
    /// control was there (for the curators' count of steps not found).
    #[serde(rename_all = "camelCase")]
    StepShown { number: usize, found: bool },
    /// The user clicked the control of step `number`, which goes on by that click (see
    /// [`inflow_core::curation::Walkthrough::advance_on_click`]).
    #[serde(rename_all = "camelCase")]
    StepDone { number: usize },
}

/// The worker's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Response {
    /// Tips of this screen: those placed in the page text, those captured on this very page
    /// that could not be placed with confidence ("needs review"), those captured on another
    /// record's page whose text is not on this record (about other records: shown quietly,
    /// never flagged), and those pinned to elements (the content script finds those in the
    /// DOM, by the ranked selectors core gave them).
    #[serde(rename_all = "camelCase")]
    PageTips {
        active: bool,
        placed: Vec<PlacedTip>,
        unplaced: Vec<Tip>,
        other_records: Vec<Tip>,
        elements: Vec<Tip>,
        /// Which of `elements` were pinned on this very page (not on another record's):
        /// a missing control of one of these needs review. The worker decides, so the
        /// content script never compares addresses.
        elements_captured_here: Vec<inflow_core::TipId>,
        /// The team's identifying fields: the content script reads their values, with the
        /// labelled fields, when a tip is captured (see `extension/content/identifiers.js`).
        identifying_fields: Vec<inflow_core::fields::FieldRule>,
        /// The step of the walkthrough being played, as this page shows it (see
        /// [`crate::walkthrough`]).
        #[serde(skip_serializing_if = "Option::is_none")]
        walkthrough: Option<crate::walkthrough::Step>,
    },
    /// The tip was stored. `waiting`: a shared change that stays queued on this device,
    /// because Inflow is not connected to a team server or its last try failed (the
    /// notice must not say the team has it).
    #[serde(rename_all = "camelCase")]
    Saved {
        tip: Box<Tip>,
        anchor: Option<Anchor>,
        #[serde(default)]
        waiting: bool,
    },
    /// The tip was deleted; it is here for an undo.
    #[serde(rename_all = "camelCase")]
    Deleted { tip: Box<Tip> },
    /// Nothing was changed; `message` is shown to the user as it is.
    Error { message: String },
    /// How many tips were flagged for review.
    Flagged { count: usize },
    /// Taken note of ([`Request::StepShown`]); nothing to show.
    Noted,
    /// Tips a card shows ([`PageRequest::Tips`]): those still stored, who this member is
    /// (their own get Edit and Delete), and which wait to be sent.
    #[serde(rename_all = "camelCase")]
    Tips { tips: Vec<Tip>, me: String, waiting: Vec<inflow_core::TipId> },
}

/// A tip and where it sits in the page text (raw UTF-16 offsets).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlacedTip {
    pub tip: Tip,
    #[serde(flatten)]
    pub anchor: Anchor,
}

/// What the worker tells a content script on its own initiative.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Command {
    /// Open the capture form for the current selection (shortcut or context menu).
    OpenCapture,
    /// Open the capture form for the element last right-clicked (context menu).
    PinElement,
    /// Show a short message in the page.
    Notice { message: String },
    /// Tips arrived from the team: ask again which belong on this page.
    TipsChanged,
    /// Move to the next (or previous) tip of the page and open its card (keyboard).
    #[serde(rename_all = "camelCase")]
    MoveToTip { forward: bool },
}

/// One text of the capture form's preview: `cut` for the words around the quote, which the
/// tip keeps as contexts cut at a fixed length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewText {
    pub text: String,
    #[serde(default)]
    pub cut: bool,
}

/// What the content script tells Inflow's tip frame (`extension/tipframe.html`, an
/// extension page in the UI host's closed shadow root) over their private port. Tip
/// content is never in the page's document: the frame reads tips from the store by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FrameCommand {
    /// Show the capture form for `quote` (the selected text, or a description of the
    /// control being pinned), with what the form's preview of a shared tip needs: the
    /// page's title, the text around the quote and the page's identifying values (see
    /// `extension/content/identifiers.js`).
    #[serde(rename_all = "camelCase")]
    ShowCapture {
        quote: String,
        #[serde(default)]
        title: String,
        #[serde(default)]
        prefix: String,
        #[serde(default)]
        suffix: String,
        #[serde(default)]
        identifiers: Vec<PageIdentifier>,
    },
    /// The worker refused the capture: say why, keep what was typed.
    #[serde(rename_all = "camelCase")]
    CaptureRefused { message: String },
    /// Show the cards of these tips (a click on their highlight, a marker, the keyboard),
    /// or, with `step`, the card of a walkthrough's step.
    #[serde(rename_all = "camelCase")]
    ShowTips {
        tip_ids: Vec<inflow_core::TipId>,
        #[serde(default)]
        step: Option<crate::walkthrough::Step>,
    },
    /// Preview the first of these tips (the pointer rests on its highlight).
    #[serde(rename_all = "camelCase")]
    Peek { tip_ids: Vec<inflow_core::TipId> },
}

/// What the tip frame tells the content script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FrameEvent {
    /// The frame's code runs and listens.
    FrameReady,
    /// What the frame shows needs this much room (CSS pixels).
    #[serde(rename_all = "camelCase")]
    FrameSize { width: f64, height: f64 },
    /// The user saved the capture form: the content script adds the selection.
    #[serde(rename_all = "camelCase")]
    SaveCapture {
        note: String,
        tags: Vec<String>,
        visibility: Visibility,
        /// What the author chose in the preview of a shared tip.
        #[serde(default)]
        choices: AuthorChoices,
    },
    /// The user closed the form or card (Escape, Cancel, Close): hide the frame and give
    /// the focus back to where it was.
    FrameClosed,
}

/// What the extension's own pages (options, side panel) ask of the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum PageRequest {
    /// Where sync stands.
    SyncStatus,
    /// How these texts of a tip being captured will be shared (the capture form's preview,
    /// see [`crate::capture_preview`]): answered with one list of pieces per text. The
    /// worker holds the redactor, so the frame's package stays small.
    #[serde(rename_all = "camelCase")]
    SharePreview { texts: Vec<PreviewText>, identifiers: Vec<PageIdentifier>, choices: AuthorChoices },
    /// Sync now, whatever the backoff, then say where it stands.
    SyncNow,
    /// Reply to a tip (answered with [`Response::Saved`] or [`Response::Error`]).
    #[serde(rename_all = "camelCase")]
    Reply { tip_id: inflow_core::TipId, text: String },
    /// Mark a tip helpful, or take the mark back.
    #[serde(rename_all = "camelCase")]
    Helpful { tip_id: inflow_core::TipId, helpful: bool },
    /// Take a curation step on a tip.
    #[serde(rename_all = "camelCase")]
    Curate { tip_id: inflow_core::TipId, step: inflow_core::curation::Action },
    /// The author changes a tip (answered with [`Response::Saved`] or [`Response::Error`]),
    /// with what they chose in its preview when it is shared.
    #[serde(rename_all = "camelCase")]
    Edit {
        tip_id: inflow_core::TipId,
        edit: inflow_core::TipEdit,
        #[serde(default)]
        choices: AuthorChoices,
    },
    /// How a tip will be shared once this edit is saved (the edit form's preview, the share
    /// step of a private tip): six lists of pieces as for [`PageRequest::SharePreview`], or
    /// null when the tip is gone.
    #[serde(rename_all = "camelCase")]
    EditPreview { tip_id: inflow_core::TipId, edit: inflow_core::TipEdit, choices: AuthorChoices },
    /// The author deletes a tip ([`Response::Deleted`], for an undo).
    #[serde(rename_all = "camelCase")]
    Delete { tip_id: inflow_core::TipId },
    /// Undo of a delete.
    #[serde(rename_all = "camelCase")]
    Restore { tip: Box<Tip> },
    /// These tips, for a card ([`Response::Tips`]).
    #[serde(rename_all = "camelCase")]
    Tips { tip_ids: Vec<inflow_core::TipId> },
    /// The side panel opened or its tips changed: what needs the user and is new to them
    /// (a list of [`crate::attention::Need`]), which from now on counts as seen.
    ForYou,
    /// Start, resume, move through or leave a walkthrough (the side panel, the frame's step
    /// card); answered with the progress now (null: none is played). Every tab is told,
    /// so the step shows where it belongs.
    Walkthrough { go: crate::walkthrough::Go },
    /// The walkthrough being played, if any (the side panel's Resume).
    WalkthroughProgress,
    /// The walkthroughs this member completed on this device (their collections' ids):
    /// the panel prompts only for the others.
    WalkthroughsCompleted,
}

/// What the side panel asks of the content script in the active tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PanelCommand {
    /// Scroll to a tip's text and flash it; answered `{ ok }`.
    #[serde(rename_all = "camelCase")]
    Reveal { tip_id: inflow_core::TipId },
    /// Which tips this screen shows, by id (answered with the panel's `ScreenTips`).
    ScreenTips,
}

/// Where sync stands, for people: shown by the options page and the side panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "syncStatus", rename_all = "camelCase")]
pub struct SyncStatus {
    /// A server address and token are set.
    pub configured: bool,
    /// They come from the organisation's policy.
    pub managed: bool,
    pub server_url: String,
    pub membership: Option<crate::settings::Membership>,
    /// Shared changes made here that the server has not acknowledged yet.
    pub pending: u32,
    pub last_success_ms: Option<f64>,
    pub last_error: Option<String>,
    pub screen_rules: Vec<String>,
    /// The team's identifying fields, as `kind: selector` texts.
    #[serde(default)]
    pub identifying_fields: Vec<String>,
}

impl SyncStatus {
    /// The one line the side panel keeps at its top: online or not, what waits, what went
    /// wrong, in words.
    pub fn line(&self) -> String {
        if !self.configured {
            return "Not connected to a team server: tips stay on this device. Connect in Options.".to_owned();
        }
        let team = self
            .membership
            .as_ref()
            .map_or_else(|| "your team".to_owned(), |m| format!("{} as {}", m.team_name, m.name));
        let waiting = match self.pending {
            0 => String::new(),
            1 => " · 1 change waiting to send".to_owned(),
            n => format!(" · {n} changes waiting to send"),
        };
        match &self.last_error {
            Some(problem) => format!("Offline{waiting}. {problem}"),
            None if self.last_success_ms.is_none() => format!("Not synced yet{waiting}."),
            None => format!("Online: {team}{waiting}"),
        }
    }

    /// What "Sync now" achieved, and whether that is a problem: "Synced." only when a sync
    /// ran and succeeded, never without a server.
    pub fn sync_outcome(&self) -> (String, bool) {
        match (&self.last_error, self.last_success_ms) {
            _ if !self.configured => (
                "Not connected to a team server, so there is nothing to sync: tips stay on this device.".to_owned(),
                true,
            ),
            (Some(problem), _) => (problem.clone(), true),
            (None, None) => ("Not synced yet: the server has not answered.".to_owned(), true),
            (None, Some(_)) => ("Synced.".to_owned(), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sync_state_says_synced_only_after_a_sync_that_succeeded() {
        let never = SyncStatus {
            configured: false,
            managed: false,
            server_url: String::new(),
            membership: None,
            pending: 0,
            last_success_ms: None,
            last_error: None,
            screen_rules: vec![],
            identifying_fields: vec![],
        };
        assert!(never.sync_outcome().1, "no server: not a success");
        assert!(never.line().starts_with("Not connected"));
        let failed = SyncStatus {
            configured: true,
            pending: 2,
            last_error: Some("The server at http://127.0.0.1:8787 cannot be reached.".into()),
            ..never.clone()
        };
        assert_eq!(failed.sync_outcome(), ("The server at http://127.0.0.1:8787 cannot be reached.".into(), true));
        assert!(failed.line().starts_with("Offline · 2 changes waiting to send."), "{}", failed.line());
        let untried = SyncStatus { configured: true, ..never.clone() };
        assert!(untried.sync_outcome().1 && untried.line().starts_with("Not synced yet"));
        let synced = SyncStatus { configured: true, last_success_ms: Some(1.0), ..never };
        assert_eq!(synced.sync_outcome(), ("Synced.".into(), false));
        assert_eq!(synced.line(), "Online: your team");
    }

    #[test]
    fn requests_decode_from_the_content_scripts_json() {
        let json = r#"{"type":"capture","title":"Orders","text":"abc","start":0,"end":3,"note":"n","tags":["a"],"visibility":"team"}"#;
        let request: Request = serde_json::from_str(json).expect("decodes");
        assert!(matches!(request, Request::Capture { start: 0, end: 3, visibility: Visibility::Team, .. }));
        let opened = r#"{"type":"pageOpened","title":"t","text":"x","url":"http://127.0.0.1:8700/patients/1/orders"}"#;
        let message: ContentMessage = serde_json::from_str(opened).expect("decodes");
        assert_eq!(message.url.as_deref(), Some("http://127.0.0.1:8700/patients/1/orders"));
        assert!(matches!(message.request, Request::PageOpened { .. }));
        assert!(
            serde_json::from_str::<ContentMessage>(r#"{"type":"launch","url":"http://x"}"#).is_err(),
            "unknown requests are refused"
        );
    }

    #[test]
    fn commands_encode_with_a_type_tag() {
        let json = serde_json::to_value(Command::Notice { message: "hi".into() }).expect("encodes");
        assert_eq!(json, serde_json::json!({"type": "notice", "message": "hi"}));
    }

    /// The serde tags of `enum_name`'s variants, read from this file: each variant's name
    /// in camelCase, as `rename_all = "camelCase"` writes it.
    fn tags(enum_name: &str) -> std::collections::BTreeSet<String> {
        let source = include_str!("messages.rs");
        let start = source.find(&format!("pub enum {enum_name} {{")).unwrap_or_else(|| panic!("no enum {enum_name}"));
        let body = &source[start..];
        let body = &body[..body.find("\n}").expect("the enum ends")];
        body.lines()
            .filter_map(|line| line.strip_prefix("    "))
            .filter(|line| line.starts_with(|c: char| c.is_ascii_uppercase()))
            .map(|line| {
                let name: String = line.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                let mut chars = name.chars();
                chars.next().map(|first| first.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
            })
            .collect()
    }

    /// Every `'name'` in `source` that follows `before` (a JS pattern such as `type: `).
    fn quoted_after(source: &str, before: &str) -> std::collections::BTreeSet<String> {
        source
            .match_indices(before)
            .filter_map(|(at, _)| {
                let rest = source[at + before.len()..].strip_prefix('\'')?;
                Some(rest[..rest.find('\'')?].to_owned())
            })
            .collect()
    }

    #[test]
    fn the_content_script_speaks_exactly_the_rust_protocol() {
        // The content script's modules, read as one source.
        let sources = concat!(env!("CARGO_MANIFEST_DIR"), "/extension/content");
        let mut modules: Vec<_> = std::fs::read_dir(sources)
            .unwrap_or_else(|e| panic!("reading {sources}: {e}"))
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "js"))
            .collect();
        modules.sort();
        assert!(modules.len() > 5, "found only {modules:?}");
        let content: String = modules.iter().map(|path| std::fs::read_to_string(path).unwrap_or_default()).collect();
        let content = content.as_str();
        let worker = include_str!("../extension/worker.js");
        let set = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<std::collections::BTreeSet<_>>();
        let union = |a: std::collections::BTreeSet<String>, b: std::collections::BTreeSet<String>| {
            a.union(&b).cloned().collect::<std::collections::BTreeSet<_>>()
        };
        // What the content script sends: `{ type: '…' }` objects, leaving out the DOM
        // elements it builds (`element_('button', { type: 'button' })`) and the error
        // answers it makes up itself when the worker does not answer.
        let sent: std::collections::BTreeSet<String> = content
            .lines()
            .filter(|line| !line.contains("element_("))
            .flat_map(|line| quoted_after(line, "{ type: "))
            .filter(|name| name != "error")
            .collect();
        assert_eq!(
            sent,
            union(tags("Request"), tags("FrameCommand")),
            "the content script sends exactly the Request and FrameCommand variants"
        );
        // What it is told: `message.type === '…'` in its message listeners (the worker's
        // and the panel's, and the tip frame's port).
        let handled = quoted_after(content, "message.type === ");
        assert_eq!(
            handled,
            union(union(tags("Command"), tags("PanelCommand")), tags("FrameEvent")),
            "the content script handles exactly the commands and the frame's events"
        );
        // What it expects back, and what the worker's wrapper answers on a failure.
        let expected = union(
            union(quoted_after(content, ".type !== "), quoted_after(content, "back.type === ")),
            union(set(&["error"]), quoted_after(worker, "sendResponse({ type: ")),
        );
        let responses = tags("Response");
        assert!(expected.is_subset(&responses), "{:?} are not Response variants", expected.difference(&responses));
        assert!(responses.contains("pageTips") && sent.contains("pageOpened"), "the scan reads the sources");
    }

    #[test]
    fn the_extension_pages_build_no_message_by_hand() {
        for (file, source) in [
            ("side_panel.rs", include_str!("side_panel.rs")),
            ("side_panel/curation.rs", include_str!("side_panel/curation.rs")),
            ("options_page.rs", include_str!("options_page.rs")),
            ("dom.rs", include_str!("dom.rs")),
            ("tip_view.rs", include_str!("tip_view.rs")),
            ("tip_frame.rs", include_str!("tip_frame.rs")),
        ] {
            assert!(
                !source.contains("json!({ \"type\""),
                "{file} builds a message with json!: use PageRequest or PanelCommand"
            );
        }
    }
}
