//! Exports: a selection of the team's tips as learning material, in four formats that the
//! side panel (a download) and `inflow-server export` both produce from this one code:
//! Markdown, a standalone printable HTML tip sheet, CSV (RFC 4180) and W3C Web Annotation
//! JSON-LD.
//!
//! User content is text, never markup, in every format: Markdown escapes what Markdown
//! would read as syntax, HTML escapes every markup character, CSV defuses cells a
//! spreadsheet would run as a formula, and the displayed formats drop the bidirectional
//! controls that can make text read differently from what it is. JSON-LD keeps the text
//! exactly (JSON escaping is enough there, and an import must get back what was exported).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::curation::{Collection, Status};
use crate::id::TipId;
use crate::model::{truncate_chars, Selector, Tip, Visibility};
use crate::screen::screen_pattern;
use crate::search::Search;
use crate::time::Timestamp;
use crate::url::page_address;

/// Tips handled between two progress reports.
pub const PROGRESS_EVERY: usize = 250;
/// Inflow's own terms in JSON-LD, beside the W3C vocabulary: a URN, since the project
/// owns no domain to put a vocabulary on (and must not borrow one).
pub const NAMESPACE: &str = "urn:inflow:terms:";

/// An export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Markdown,
    Html,
    Csv,
    JsonLd,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Markdown, Format::Html, Format::Csv, Format::JsonLd];

    pub fn parse(text: &str) -> Option<Format> {
        match text.to_ascii_lowercase().as_str() {
            "markdown" | "md" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            "csv" => Some(Format::Csv),
            "jsonld" | "json-ld" => Some(Format::JsonLd),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::JsonLd => "jsonld",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::JsonLd => "application/ld+json",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Markdown => "Markdown",
            Format::Html => "Printable tip sheet (HTML)",
            Format::Csv => "Spreadsheet (CSV)",
            Format::JsonLd => "W3C Web Annotation (JSON-LD)",
        }
    }
}

/// Which tips an export takes. Private tips are never exported: exports are the team's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Selection {
    /// Every approved tip (the default: what curators have verified).
    #[default]
    Approved,
    /// One collection, in its order.
    #[serde(rename_all = "camelCase")]
    Collection { id: TipId },
    /// A search (see [`crate::search`]) and, optionally, one curation status.
    #[serde(rename_all = "camelCase")]
    Filter {
        #[serde(default)]
        query: String,
        #[serde(default)]
        status: Option<Status>,
    },
    /// Every shared tip that is not retired.
    Everything,
}

impl Selection {
    /// The tips selected, in export order (a collection's own order, else oldest first).
    pub fn pick<'a>(&self, tips: &'a [Tip], collections: &[Collection]) -> Vec<&'a Tip> {
        let shared = tips.iter().filter(|t| t.visibility == Visibility::Team);
        let mut picked: Vec<&Tip> = match self {
            Selection::Approved => shared.filter(|t| t.curation.status == Status::Approved).collect(),
            Selection::Everything => shared.filter(|t| t.curation.status != Status::Retired).collect(),
            Selection::Filter { query, status } => {
                let search = Search::parse(query);
                shared
                    .filter(|t| match status {
                        Some(status) => t.curation.status == *status,
                        None => t.curation.status != Status::Retired,
                    })
                    .filter(|t| search.matches(t))
                    .collect()
            }
            Selection::Collection { id } => {
                let Some(collection) = collections.iter().find(|c| c.id == *id) else { return Vec::new() };
                let by_id: HashMap<TipId, &Tip> =
                    shared.filter(|t| t.curation.status != Status::Retired).map(|t| (t.id, t)).collect();
                return collection.tips.iter().filter_map(|id| by_id.get(id).copied()).collect();
            }
        };
        picked.sort_by_key(|t| (t.created, t.id));
        picked
    }

    /// How the selection reads in a heading.
    pub fn describe(&self, collections: &[Collection]) -> String {
        match self {
            Selection::Approved => "Approved tips".into(),
            Selection::Everything => "All shared tips".into(),
            Selection::Collection { id } => {
                collections.iter().find(|c| c.id == *id).map_or_else(|| "A collection".into(), |c| c.name.clone())
            }
            Selection::Filter { query, status } => match (query.trim(), status) {
                ("", None) => "All shared tips".into(),
                ("", Some(status)) => format!("Tips {}", status.as_str()),
                (query, None) => format!("Tips matching \u{201c}{query}\u{201d}"),
                (query, Some(status)) => format!("Tips {} matching \u{201c}{query}\u{201d}", status.as_str()),
            },
        }
    }
}

/// What an export is made of.
#[derive(Clone, Debug)]
pub struct Sheet<'a> {
    pub title: String,
    pub team: String,
    pub generated: Timestamp,
    pub tips: Vec<&'a Tip>,
    /// Collections to group by (the tip sheet and Markdown show each as a section, in
    /// order; the rest go under their screens). JSON-LD and CSV name a tip's collections.
    pub collections: &'a [Collection],
}

/// Renders `sheet` in `format`, calling `progress(done, total)` as tips are written.
pub fn render(format: Format, sheet: &Sheet<'_>, progress: &mut dyn FnMut(usize, usize)) -> String {
    let out = match format {
        Format::Markdown => markdown(sheet, progress),
        Format::Html => html(sheet, progress),
        Format::Csv => csv(sheet, progress),
        Format::JsonLd => serde_json::to_string_pretty(&json_ld(sheet, progress)).unwrap_or_default() + "\n",
    };
    progress(sheet.tips.len(), sheet.tips.len());
    out
}

/// The name a download of this sheet gets: `inflow-approved-tips-2026-11-25.md`.
pub fn file_name(sheet: &Sheet<'_>, format: Format) -> String {
    let slug: String = sheet
        .title
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("-");
    format!("inflow-{}-{}.{}", if slug.is_empty() { "tips" } else { &slug }, sheet.generated.day(), format.extension())
}

// ---- What every format says of a tip ---------------------------------------------------

/// The tip's heading: the curator's title, else the note's first line, else the quote.
pub fn heading(tip: &Tip) -> String {
    if !tip.curation.title.is_empty() {
        return tip.curation.title.clone();
    }
    let first_line = tip.note.lines().map(str::trim).find(|l| !l.is_empty());
    let text = first_line.or(tip.target.quote()).unwrap_or("Untitled tip");
    let short = truncate_chars(text, 80);
    if short.chars().count() < text.chars().count() {
        format!("{short}\u{2026}")
    } else {
        short
    }
}

/// Where the tip lives: the page title and its screen, record ids as `*`.
fn screen_of(tip: &Tip) -> String {
    screen_pattern(&tip.screen, &[]).unwrap_or_else(|_| tip.screen.clone())
}

/// A screen pattern as a reader says it: `http://emr.example/patients/*/orders` is
/// "emr.example › patients › any record › orders" (no scheme, no `*`).
pub fn screen_in_words(pattern: &str) -> String {
    let without_scheme = pattern.split_once("://").map_or(pattern, |(_, rest)| rest);
    let (address, query) = without_scheme.split_once('?').unwrap_or((without_scheme, ""));
    let mut words: Vec<String> = address
        .split('/')
        .filter(|part| !part.is_empty())
        .map(|part| if part == "*" { "any record".to_owned() } else { part.to_owned() })
        .collect();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        words.push(match pair.split_once('=') {
            Some((name, "*")) => format!("{name}: any"),
            Some((name, value)) => format!("{name}: {value}"),
            None => pair.to_owned(),
        });
    }
    words.join(" \u{203a} ")
}

/// What the tip sheet and Markdown show of a tip: a heading and the note under it, the
/// note's words said once. The curator's title heads a tip; else the note's first line,
/// or its first sentence, when short enough to be a heading (the rest stays below it);
/// else the note's opening words, with the whole note below.
fn heading_and_note(tip: &Tip) -> (String, String) {
    let note = tip.note.trim();
    if !tip.curation.title.is_empty() || note.is_empty() {
        return (heading(tip), note.to_owned());
    }
    const SHORT: usize = 80;
    let (first_line, rest) = note.split_once('\n').unwrap_or((note, ""));
    let first_line = first_line.trim();
    if first_line.chars().count() <= SHORT {
        return (first_line.to_owned(), rest.trim().to_owned());
    }
    if let Some(end) = first_line.find(". ").filter(|&end| first_line[..=end].chars().count() <= SHORT) {
        let rest_of_line = first_line[end + 1..].trim();
        let rest = [rest_of_line, rest.trim()].iter().filter(|part| !part.is_empty()).copied().collect::<Vec<_>>();
        return (first_line[..=end].to_owned(), rest.join("\n"));
    }
    (heading(tip), note.to_owned())
}

/// The element a tip is pinned to, in words.
fn element_of(tip: &Tip) -> Option<String> {
    tip.target.selector.iter().find_map(|s| match s {
        Selector::Css { label: Some(label), .. } => Some(label.clone()),
        Selector::Css { text: Some(text), .. } => Some(text.clone()),
        Selector::Css { value, .. } => Some(value.clone()),
        _ => None,
    })
}

fn status_line(tip: &Tip) -> String {
    let c = &tip.curation;
    match (&c.status, &c.verified) {
        (Status::Approved, Some(v)) => {
            format!("Approved by {} on {}; verify again by {}", v.by, v.at.day(), v.verify_by.day())
        }
        (status, _) => capitalise(status.as_str()),
    }
}

/// The line under a tip in the tip sheet and Markdown: who and when, its status, its tags,
/// how many found it helpful; user text escaped by `escape`.
fn facts(tip: &Tip, escape: fn(&str) -> String) -> String {
    let mut facts = vec![format!("By {}, {}", escape(&tip.author), tip.created.day()), escape(&status_line(tip))];
    if !tip.tags.is_empty() {
        facts.push(format!("Tags: {}", tip.tags.iter().map(|t| escape(t)).collect::<Vec<_>>().join(", ")));
    }
    if !tip.helpful.is_empty() {
        facts.push(format!("Helpful to {}", tip.helpful.len()));
    }
    facts.join(" \u{b7} ")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

/// Groups for the tip sheet and Markdown: each collection with its selected tips in its
/// order, then the remaining tips by screen (screens in first-tip order).
fn groups<'a>(sheet: &Sheet<'a>) -> Vec<(String, Vec<&'a Tip>)> {
    let selected: HashMap<TipId, &Tip> = sheet.tips.iter().map(|t| (t.id, *t)).collect();
    let mut grouped = std::collections::HashSet::new();
    let mut groups = Vec::new();
    for collection in sheet.collections {
        let tips: Vec<&Tip> = collection.tips.iter().filter_map(|id| selected.get(id).copied()).collect();
        if !tips.is_empty() {
            grouped.extend(tips.iter().map(|t| t.id));
            groups.push((collection.name.clone(), tips));
        }
    }
    let mut screens: Vec<(String, Vec<&Tip>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for tip in sheet.tips.iter().filter(|t| !grouped.contains(&t.id)) {
        let screen = screen_of(tip);
        let at = *index.entry(screen.clone()).or_insert_with(|| {
            // The page's title names the screen for people; the address is said in words.
            let in_words = screen_in_words(&screen);
            let title =
                if tip.page_title.is_empty() { in_words } else { format!("{} \u{2014} {}", tip.page_title, in_words) };
            screens.push((title, Vec::new()));
            screens.len() - 1
        });
        screens[at].1.push(tip);
    }
    groups.extend(screens);
    groups
}

/// Text made safe to display: bidirectional embeddings, overrides and isolates (which can
/// make text read differently from what it is) and control characters other than line
/// breaks and tabs are dropped.
pub fn inert(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

// ---- Markdown -----------------------------------------------------------------------------

/// Escapes text so Markdown shows it as written: every character Markdown or inline HTML
/// could read as syntax gets a backslash, and a line that would start a list, heading or
/// quote is defused.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (n, line) in inert(text).split('\n').enumerate() {
        if n > 0 {
            // A hard line break that keeps the note's own lines.
            out.push_str("  \n");
        }
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        out.push_str(&indent.replace('\t', "    ").chars().map(|_| ' ').take(3).collect::<String>());
        let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
        for (i, c) in trimmed.chars().enumerate() {
            let starts_line = i == 0;
            let escape =
                matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!' | '&' | '{' | '}')
                    || (starts_line && matches!(c, '-' | '+' | '='))
                    || (digits > 0 && i == digits && matches!(c, '.' | ')'));
            if escape {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

fn markdown(sheet: &Sheet<'_>, progress: &mut dyn FnMut(usize, usize)) -> String {
    let mut out = String::new();
    out.push_str(&format!("# {}\n\n", markdown_text(&sheet.title)));
    out.push_str(&format!(
        "{} \u{b7} {} tips \u{b7} exported {}\n",
        markdown_text(&sheet.team),
        sheet.tips.len(),
        sheet.generated.day()
    ));
    let mut done = 0;
    for (group, tips) in groups(sheet) {
        out.push_str(&format!("\n## {}\n", markdown_text(&group)));
        for tip in tips {
            let (heading, note) = heading_and_note(tip);
            out.push_str(&format!("\n### {}\n\n", markdown_text(&heading)));
            if !tip.curation.summary.is_empty() {
                out.push_str(&format!("**{}**\n\n", markdown_text(&tip.curation.summary)));
            }
            if let Some(quote) = tip.target.quote() {
                out.push_str(&format!("> {}\n\n", markdown_text(quote).replace("  \n", "  \n> ")));
            } else if let Some(element) = element_of(tip) {
                out.push_str(&format!("On the screen element: {}\n\n", markdown_text(&element)));
            }
            if !note.is_empty() {
                out.push_str(&markdown_text(&note));
                out.push_str("\n\n");
            }
            out.push_str(&format!("*{}*\n", facts(tip, markdown_text)));
            for reply in &tip.replies {
                out.push_str(&format!(
                    "\n- {} ({}): {}\n",
                    markdown_text(&reply.author),
                    reply.created.day(),
                    markdown_text(&reply.text)
                ));
            }
            done += 1;
            if done % PROGRESS_EVERY == 0 {
                progress(done, sheet.tips.len());
            }
        }
    }
    out
}

// ---- HTML tip sheet -------------------------------------------------------------------------

/// Escapes text for HTML element content and quoted attribute values.
pub fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in inert(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) const SHEET_STYLE: &str = "
:root { color-scheme: light; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; line-height: 1.45; color: #1b1f24; }
body { max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
header.sheet { border-bottom: 2px solid #1b1f24; margin-bottom: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
.meta { color: #4a5360; font-size: .9rem; margin: 0 0 .75rem; }
section.group > h2 { font-size: 1.2rem; border-bottom: 1px solid #c9ced6; padding-bottom: .2rem; margin-top: 2rem; }
article.tip { border: 1px solid #c9ced6; border-radius: 6px; padding: .75rem 1rem; margin: .75rem 0; break-inside: avoid; page-break-inside: avoid; }
article.tip h3 { font-size: 1.05rem; margin: 0 0 .4rem; }
.summary { font-weight: 600; margin: 0 0 .4rem; }
blockquote { margin: .4rem 0; padding: .25rem .75rem; border-left: 4px solid #e0a800; background: #fff8e1; }
.note { white-space: pre-wrap; overflow-wrap: anywhere; margin: .4rem 0; }
.facts { color: #4a5360; font-size: .85rem; margin: .4rem 0 0; }
.badge { display: inline-block; border: 1px solid currentColor; border-radius: 999px; padding: 0 .45rem; font-size: .75rem; }
.approved { color: #1b6e3a; } .retired { color: #8a1c1c; } .proposed { color: #6b4e00; }
ul.replies { margin: .4rem 0 0; padding-left: 1.2rem; font-size: .9rem; }
ul.replies li { white-space: pre-wrap; overflow-wrap: anywhere; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  article.tip { border-color: #888; }
  section.group > h2 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
@page { margin: 1.5cm; }
";

/// The start of a standalone page, up to its `<body>`: its Content Security Policy
/// (`policy`), `title`, `style`, and `head` (more of the head, such as a script).
pub(crate) fn page_start(out: &mut String, title: &str, policy: &str, style: &str, head: &str) {
    out.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\n"));
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n<style>{style}</style>\n{head}</head>\n<body>\n", html_text(title)));
}

fn html(sheet: &Sheet<'_>, progress: &mut dyn FnMut(usize, usize)) -> String {
    let mut out = String::with_capacity(2_048 + sheet.tips.len() * 1_200);
    // The sheet loads nothing and runs nothing, wherever it is opened.
    page_start(&mut out, &sheet.title, "default-src 'none'; style-src 'unsafe-inline'", SHEET_STYLE, "");
    out.push_str(&format!(
        "<header class=\"sheet\"><h1>{}</h1><p class=\"meta\">{} \u{b7} {} tips \u{b7} exported {}</p></header>\n<main>\n",
        html_text(&sheet.title),
        html_text(&sheet.team),
        sheet.tips.len(),
        sheet.generated.day()
    ));
    let mut done = 0;
    for (group, tips) in groups(sheet) {
        out.push_str(&format!("<section class=\"group\">\n<h2>{}</h2>\n", html_text(&group)));
        for tip in tips {
            tip_article(tip, &mut out);
            done += 1;
            if done % PROGRESS_EVERY == 0 {
                progress(done, sheet.tips.len());
            }
        }
        out.push_str("</section>\n");
    }
    if sheet.tips.is_empty() {
        out.push_str("<p>No tips match this selection.</p>\n");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// One tip as the tip sheet (and the cmi5 course's page) shows it: an `<article>` with
/// its heading, quote or element, note, facts and replies; every user text escaped.
pub(crate) fn tip_article(tip: &Tip, out: &mut String) {
    let status = tip.curation.status.as_str();
    let (heading, note) = heading_and_note(tip);
    out.push_str(&format!(
        "<article class=\"tip\" id=\"tip-{}\">\n<h3>{} <span class=\"badge {status}\">{status}</span></h3>\n",
        tip.id,
        html_text(&heading)
    ));
    if !tip.curation.summary.is_empty() {
        out.push_str(&format!("<p class=\"summary\">{}</p>\n", html_text(&tip.curation.summary)));
    }
    if let Some(quote) = tip.target.quote() {
        out.push_str(&format!("<blockquote>{}</blockquote>\n", html_text(quote)));
    } else if let Some(element) = element_of(tip) {
        out.push_str(&format!("<p class=\"facts\">On the screen element: {}</p>\n", html_text(&element)));
    }
    if !note.is_empty() {
        out.push_str(&format!("<p class=\"note\">{}</p>\n", html_text(&note)));
    }
    out.push_str(&format!("<p class=\"facts\">{}</p>\n", facts(tip, html_text)));
    if !tip.replies.is_empty() {
        out.push_str("<ul class=\"replies\">\n");
        for reply in &tip.replies {
            out.push_str(&format!(
                "<li><strong>{}</strong> ({}): {}</li>\n",
                html_text(&reply.author),
                reply.created.day(),
                html_text(&reply.text)
            ));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</article>\n");
}

// ---- CSV ------------------------------------------------------------------------------------

const CSV_COLUMNS: [&str; 17] = [
    "id",
    "created",
    "modified",
    "author",
    "page title",
    "screen",
    "page address",
    "quote",
    "element",
    "note",
    "tags",
    "status",
    "verified by",
    "verify again by",
    "title",
    "summary",
    "helpful",
];

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes
/// doubled. A cell a spreadsheet would evaluate (starting `=`, `+`, `-`, `@`, a tab or a
/// carriage return) gets a leading apostrophe, so it stays text.
pub fn csv_field(text: &str) -> String {
    let text = inert(text);
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

fn csv(sheet: &Sheet<'_>, progress: &mut dyn FnMut(usize, usize)) -> String {
    let mut out = String::with_capacity(256 + sheet.tips.len() * 400);
    let row = |out: &mut String, fields: &[String]| {
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    };
    row(&mut out, &CSV_COLUMNS.map(str::to_owned));
    for (done, tip) in sheet.tips.iter().enumerate() {
        let c = &tip.curation;
        row(
            &mut out,
            &[
                tip.id.to_string(),
                tip.created.to_string(),
                tip.modified.to_string(),
                tip.author.clone(),
                tip.page_title.clone(),
                screen_of(tip),
                tip.target.source.clone(),
                tip.target.quote().unwrap_or_default().to_owned(),
                element_of(tip).unwrap_or_default(),
                tip.note.clone(),
                tip.tags.join("; "),
                c.status.as_str().to_owned(),
                c.verified.as_ref().map(|v| v.by.clone()).unwrap_or_default(),
                c.verified.as_ref().map(|v| v.verify_by.day()).unwrap_or_default(),
                c.title.clone(),
                c.summary.clone(),
                tip.helpful.len().to_string(),
            ],
        );
        if (done + 1) % PROGRESS_EVERY == 0 {
            progress(done + 1, sheet.tips.len());
        }
    }
    out
}

// ---- W3C Web Annotation JSON-LD -------------------------------------------------------------

/// The IRI of a tip or reply: its UUID as a URN, the same on every export.
pub fn iri(id: TipId) -> String {
    format!("urn:uuid:{id}")
}

/// One annotation per tip (with its curation, replies as `replying` annotations that
/// target it), in an `AnnotationCollection` whose pages are embedded, each linking the
/// next. Selectors keep the W3C types; Inflow's own fields carry the `inflow:` prefix.
pub fn json_ld(sheet: &Sheet<'_>, progress: &mut dyn FnMut(usize, usize)) -> Value {
    let memberships: BTreeMap<TipId, Vec<&str>> = sheet.collections.iter().fold(BTreeMap::new(), |mut map, c| {
        for id in &c.tips {
            map.entry(*id).or_insert_with(Vec::new).push(c.name.as_str());
        }
        map
    });
    let mut items: Vec<Value> = Vec::with_capacity(sheet.tips.len());
    for (done, tip) in sheet.tips.iter().enumerate() {
        items.push(annotation(tip, memberships.get(&tip.id).map(Vec::as_slice).unwrap_or_default()));
        for reply in &tip.replies {
            items.push(json!({
                "id": iri(reply.id),
                "type": "Annotation",
                "motivation": "replying",
                "created": reply.created.to_string(),
                "creator": { "type": "Person", "name": reply.author },
                "body": { "type": "TextualBody", "value": reply.text, "format": "text/plain", "purpose": "replying" },
                "target": iri(tip.id),
            }));
        }
        if (done + 1) % PROGRESS_EVERY == 0 {
            progress(done + 1, sheet.tips.len());
        }
    }
    let collection_id = format!("urn:inflow:export:{}", sheet.generated.unix_ms());
    let total = items.len();
    // One page, embedded: a page's `next` must be an IRI, and a file has no address for a
    // second page to live at. Importers read embedded pages of any size.
    json!({
        "@context": context(),
        "id": collection_id,
        "type": "AnnotationCollection",
        "label": sheet.title,
        "generated": sheet.generated.to_string(),
        "generator": { "type": "Software", "name": "Inflow" },
        "inflow:team": sheet.team,
        "total": total,
        "first": {
            "id": format!("{collection_id}:page:1"),
            "type": "AnnotationPage",
            "partOf": collection_id,
            "startIndex": 0,
            "items": items,
        },
    })
}

/// Inflow's terms, each defined so a JSON-LD processor expands it instead of dropping it:
/// text fields as plain strings, structured ones (curation, the helpful list, collections,
/// a control's fallbacks and position) as JSON literals kept whole (JSON-LD 1.1 `@json`).
pub fn context() -> Value {
    let mut terms = Map::new();
    terms.insert("@version".into(), json!(1.1));
    terms.insert("inflow".into(), json!(NAMESPACE));
    for structured in ["curation", "helpful", "collections", "fallbacks"] {
        terms.insert(format!("inflow:{structured}"), json!({ "@type": "@json" }));
    }
    json!(["http://www.w3.org/ns/anno.jsonld", terms])
}

fn annotation(tip: &Tip, collections: &[&str]) -> Value {
    let mut body =
        vec![json!({ "type": "TextualBody", "value": tip.note, "format": "text/plain", "purpose": "commenting" })];
    for tag in &tip.tags {
        body.push(json!({ "type": "TextualBody", "value": tag, "purpose": "tagging" }));
    }
    let selectors: Vec<Value> = tip.target.selector.iter().map(selector).collect();
    let mut annotation = json!({
        "id": iri(tip.id),
        "type": "Annotation",
        "motivation": "commenting",
        "created": tip.created.to_string(),
        "modified": tip.modified.to_string(),
        "creator": { "type": "Person", "name": tip.author },
        "body": body,
        // Stored tips were made valid at capture; older ones are written out as URIs here.
        "target": { "source": page_address(&tip.target.source).unwrap_or_else(|_| tip.target.source.clone()), "selector": selectors },
        "inflow:screen": tip.screen,
        "inflow:pageTitle": tip.page_title,
    });
    let Value::Object(fields) = &mut annotation else { return annotation };
    if !tip.helpful.is_empty() {
        fields.insert("inflow:helpful".into(), json!(tip.helpful));
    }
    if !tip.curation.is_untouched() {
        fields.insert("inflow:curation".into(), serde_json::to_value(&tip.curation).unwrap_or(Value::Null));
    }
    if !collections.is_empty() {
        fields.insert("inflow:collections".into(), json!(collections));
    }
    annotation
}

fn selector(selector: &Selector) -> Value {
    match selector {
        Selector::TextQuote { exact, prefix, suffix, block } => {
            let mut fields = json!({ "type": "TextQuoteSelector", "exact": exact, "prefix": prefix, "suffix": suffix });
            if let Some(block) = block {
                fields["inflow:block"] = json!(block);
            }
            fields
        }
        Selector::TextPosition { start, end } => json!({ "type": "TextPositionSelector", "start": start, "end": end }),
        Selector::Css { value, fallbacks, tag, label, text, position } => {
            let mut fields = Map::new();
            fields.insert("type".into(), json!("CssSelector"));
            fields.insert("value".into(), json!(value));
            if !fallbacks.is_empty() {
                fields.insert("inflow:fallbacks".into(), json!(fallbacks));
            }
            for (name, value) in
                [("inflow:tag", tag), ("inflow:label", label), ("inflow:text", text), ("inflow:position", position)]
            {
                if let Some(value) = value {
                    fields.insert(name.into(), json!(value));
                }
            }
            Value::Object(fields)
        }
    }
}
