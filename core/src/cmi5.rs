//! cmi5 course packages: a selection of tips (a collection, in its order) as a course an
//! LMS imports and assigns. The package is a zip of `cmi5.xml` (the course structure: one
//! course, one assignable unit) and the unit itself: `index.html`, a standalone page of the
//! steps with each step's screen, quote, note and approval, and `au.js`, the script that
//! pages through the steps and speaks cmi5 to the LMS's record store.
//!
//! The side panel and `inflow-server export --format cmi5` both build packages with this
//! code. The script is not made here: it is the build's bundle of `extension/cmi5/au.js`
//! with its cmi5 client library, and callers pass it in. User content is text here too:
//! the page escapes it as the tip sheet does, and the course structure as XML text.

use std::io::Write as _;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::export::{
    html_text, inert, page_start, screen_in_words, tip_article, Selection, Sheet, PROGRESS_EVERY, SHEET_STYLE,
};
use crate::id::TipId;
use crate::model::Tip;
use crate::screen::screen_pattern;

/// The format's name where exports are chosen (`--format cmi5`, the panel's Format list).
pub const FORMAT_NAME: &str = "cmi5";
/// The format as the panel names it to people.
pub const LABEL: &str = "Course for a learning system (cmi5 package, zip)";
/// The media type of a package.
pub const MEDIA_TYPE: &str = "application/zip";
/// The namespace of cmi5's course structure (its XML Schema's address, as the spec names it).
pub const COURSE_STRUCTURE_NAMESPACE: &str = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd";
/// The unit's page and script inside the package (the course structure points at the page).
pub const UNIT_PAGE: &str = "index.html";
pub const UNIT_SCRIPT: &str = "au.js";
/// Where the extension keeps the unit's script (the panel reads it from there; `cargo
/// xtask build` writes it into `dist/`).
pub const SCRIPT_IN_EXTENSION: &str = "cmi5-au.js";

/// The course's identity: the IRIs an LMS keys it by. Exporting the same collection again
/// gives the same ids, so a re-import updates the course instead of adding a second one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourseIds {
    pub course: String,
    pub unit: String,
}

impl CourseIds {
    /// The ids of the course made of `selection` (as `sheet`, made from it, names it).
    pub fn of(selection: &Selection, sheet: &Sheet<'_>) -> CourseIds {
        match selection {
            Selection::Collection { id } => CourseIds::of_collection(*id),
            _ => CourseIds::of_selection(&sheet.team, &sheet.title),
        }
    }

    /// The ids of a collection's course.
    pub fn of_collection(id: TipId) -> CourseIds {
        CourseIds::from_course(format!("urn:inflow:course:{id}"))
    }

    /// The ids of a course made of another selection, named by its title and team (the
    /// same export again keeps them).
    pub fn of_selection(team: &str, title: &str) -> CourseIds {
        let slug = |text: &str| -> String {
            let lowered = text.to_lowercase();
            let words: Vec<&str> =
                lowered.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
            if words.is_empty() {
                "tips".to_owned()
            } else {
                words.join("-")
            }
        };
        CourseIds::from_course(format!("urn:inflow:course:{}:{}", slug(team), slug(title)))
    }

    fn from_course(course: String) -> CourseIds {
        let unit = format!("{course}:steps");
        CourseIds { course, unit }
    }
}

/// Why a package could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("the cmi5 unit's script is missing (it is built with the extension as cmi5-au.js)")]
    NoScript,
    #[error("the package could not be written: {0}")]
    Zip(String),
}

/// The package's bytes: `cmi5.xml`, the unit's page and its `script`. `progress(done,
/// total)` is called as steps are written.
pub fn package(
    sheet: &Sheet<'_>,
    ids: &CourseIds,
    script: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<u8>, PackageError> {
    if script.trim().is_empty() {
        return Err(PackageError::NoScript);
    }
    let files = [
        ("cmi5.xml", course_structure(sheet, ids)),
        (UNIT_PAGE, unit_page(sheet, progress)),
        (UNIT_SCRIPT, script.to_owned()),
    ];
    let zip_error = |e: &dyn std::fmt::Display| PackageError::Zip(e.to_string());
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // Stored, with the zip format's earliest time: the same export gives the same bytes
    // (the course structure's text already says when it was made).
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(DateTime::default());
    for (name, text) in files {
        zip.start_file(name, options).map_err(|e| zip_error(&e))?;
        zip.write_all(text.as_bytes()).map_err(|e| zip_error(&e))?;
    }
    let written = zip.finish().map_err(|e| zip_error(&e))?;
    progress(sheet.tips.len(), sheet.tips.len());
    Ok(written.into_inner())
}

/// The name a download of the package gets: `inflow-orders-after-the-upgrade-2026-12-04-cmi5.zip`.
pub fn file_name(sheet: &Sheet<'_>) -> String {
    let sheet_name = crate::export::file_name(sheet, crate::export::Format::Html);
    format!("{}-cmi5.zip", sheet_name.trim_end_matches(".html"))
}

/// Text for XML element content and quoted attributes: escaped, with what the tip sheet
/// drops dropped, and the noncharacters XML 1.0 forbids.
fn xml_text(text: &str) -> String {
    html_text(&inert(text).replace(['\u{fffe}', '\u{ffff}'], ""))
}

/// What the course says of itself: how many steps, from which team, when.
fn description(sheet: &Sheet<'_>) -> String {
    let steps = if sheet.tips.len() == 1 { "1 step".to_owned() } else { format!("{} steps", sheet.tips.len()) };
    format!("{steps} from the tips of {}, exported {}.", sheet.team, sheet.generated.day())
}

/// `cmi5.xml`: one course with one assignable unit, the page in the package. The unit is
/// done when the learner reaches the last step (`moveOn="Completed"`), in any window.
pub fn course_structure(sheet: &Sheet<'_>, ids: &CourseIds) -> String {
    let title = xml_text(&sheet.title);
    let description = xml_text(&description(sheet));
    let lang = "en";
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="{COURSE_STRUCTURE_NAMESPACE}">
  <course id="{course}">
    <title><langstring lang="{lang}">{title}</langstring></title>
    <description><langstring lang="{lang}">{description}</langstring></description>
  </course>
  <au id="{unit}" moveOn="Completed" launchMethod="AnyWindow">
    <title><langstring lang="{lang}">{title}</langstring></title>
    <description><langstring lang="{lang}">{description}</langstring></description>
    <url>{UNIT_PAGE}</url>
  </au>
</courseStructure>
"#,
        course = xml_text(&ids.course),
        unit = xml_text(&ids.unit),
    )
}

const UNIT_STYLE: &str = "
.step-of { color: #4a5360; font-size: .9rem; margin: 1.5rem 0 .25rem; }
.screen { margin: 0 0 .5rem; }
nav.steps { display: flex; gap: .5rem; margin: 1rem 0; }
nav.steps button { font: inherit; padding: .4rem 1rem; border-radius: 6px; border: 1px solid #1b1f24; background: #fff; cursor: pointer; }
nav.steps button.primary { background: #1b4f8a; border-color: #1b4f8a; color: #fff; }
nav.steps button:focus-visible { outline: 3px solid #e0a800; outline-offset: 2px; }
#record { color: #4a5360; font-size: .9rem; }
#record.problem { color: #8a1c1c; }
";

/// A step's screen in words: the page's title and where it is (record ids as "any record").
fn screen_line(tip: &Tip) -> String {
    let pattern = screen_pattern(&tip.screen, &[]).unwrap_or_else(|_| tip.screen.clone());
    let place = screen_in_words(&pattern);
    match tip.page_title.trim() {
        "" => format!("On the screen {place}"),
        title => format!("On \u{201c}{title}\u{201d} ({place})"),
    }
}

/// The unit: every step on one page, in order, readable as it is (no script, or opened from
/// disk); with its script it shows one step at a time with Back and Next, and reports to
/// the LMS when launched by one.
pub fn unit_page(sheet: &Sheet<'_>, progress: &mut dyn FnMut(usize, usize)) -> String {
    let total = sheet.tips.len();
    let mut out = String::with_capacity(2_048 + total * 1_400);
    // It runs only its own script and talks only to the record store the LMS names (any
    // address: the LMS decides where that is).
    page_start(
        &mut out,
        &sheet.title,
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src *",
        &format!("{SHEET_STYLE}{UNIT_STYLE}"),
        &format!("<script src=\"{UNIT_SCRIPT}\" defer></script>\n"),
    );
    out.push_str(&format!(
        "<header class=\"sheet\"><h1>{}</h1><p class=\"meta\">{}</p><p id=\"record\" role=\"status\" aria-live=\"polite\"></p></header>\n<main>\n",
        html_text(&sheet.title),
        html_text(&description(sheet)),
    ));
    for (index, tip) in sheet.tips.iter().enumerate() {
        let number = index + 1;
        out.push_str(&format!(
            "<section class=\"step\" id=\"step-{number}\" aria-label=\"Step {number} of {total}\">\n<p class=\"step-of\">Step {number} of {total}</p>\n<p class=\"screen\">{}</p>\n",
            html_text(&screen_line(tip))
        ));
        tip_article(tip, &mut out);
        out.push_str("</section>\n");
        if number % PROGRESS_EVERY == 0 {
            progress(number, total);
        }
    }
    if total == 0 {
        out.push_str("<p>This course has no steps.</p>\n");
    }
    // Shown by the script: without it every step is on the page already.
    out.push_str(
        "<nav class=\"steps\" aria-label=\"Steps\" hidden><button type=\"button\" id=\"back\">Back</button><button type=\"button\" id=\"next\" class=\"primary\">Next</button><button type=\"button\" id=\"finish\" class=\"primary\">Finish</button></nav>\n",
    );
    out.push_str("</main>\n</body>\n</html>\n");
    out
}
