//! `inflow-server`: the command line. Configuration comes from flags, with environment
//! variables as fallbacks, so a service manager or a container can set either.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use inflow_core::cmi5;
use inflow_core::export::{render, Format, Selection, Sheet};
use inflow_server::auth::Role;
use inflow_server::db::Db;
use inflow_server::{app, AppState};

#[derive(Parser)]
#[command(name = "inflow-server", version, about = "Inflow's sync server: SQLite built in, PostgreSQL for scale.")]
struct Cli {
    /// `sqlite://path/to/inflow.db` or `postgres://user@host/db`. Default: a SQLite file
    /// in the data folder.
    #[arg(long, env = "INFLOW_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Where the default SQLite database lives.
    #[arg(long, env = "INFLOW_DATA_DIR", default_value = ".inflow", global = true)]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API.
    Serve {
        #[arg(long, env = "INFLOW_LISTEN", default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
    },
    /// Manage teams.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// Manage members and their tokens.
    Member {
        #[command(subcommand)]
        command: MemberCommand,
    },
    /// Make sure the demo team and its members exist, give them fresh tokens, and print
    /// them, one member a line: `name role token` (for `cargo xtask run`).
    Demo,
    /// Export a team's tips as learning material (approved tips unless told otherwise), or
    /// every stored tip as a JSON backup (`--format backup`, of one team or all).
    Export {
        /// The team's id or name (every team, for a backup without it).
        #[arg(long)]
        team: Option<String>,
        /// markdown, html (a printable tip sheet), csv, jsonld (W3C Web Annotation), cmi5 (a
        /// course package for an LMS: a zip, so with --out), xapi (the members' records of
        /// a walkthrough, --collection, as xAPI statements), or backup.
        #[arg(long, default_value = "jsonld")]
        format: String,
        /// Only the tips of this collection (its name), in its order.
        #[arg(long, conflicts_with_all = ["query", "everything"])]
        collection: Option<String>,
        /// Tips matching a search, as the side panel reads it (`tag:orders heparin`).
        #[arg(long)]
        query: Option<String>,
        /// With --query: only tips in this curation status (shared, proposed, approved, retired).
        #[arg(long, requires = "query")]
        status: Option<String>,
        /// Every shared tip that is not retired.
        #[arg(long)]
        everything: bool,
        /// Write here instead of to standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// For cmi5: the course's script, built with the extension (`cargo xtask build`
        /// writes it to dist/cmi5-au.js).
        #[arg(long, env = "INFLOW_CMI5_SCRIPT", default_value = "dist/cmi5-au.js")]
        cmi5_script: PathBuf,
        /// For xapi: the address members know this server by (their accounts' home page).
        #[arg(long, env = "INFLOW_PUBLIC_URL")]
        home_page: Option<String>,
    },
    /// Import annotations into a team: W3C Web Annotation JSON-LD (Inflow's or another
    /// tool's) or a Hypothesis export / API result. Prints what was imported and skipped.
    Import {
        file: PathBuf,
        /// The team's id or name.
        #[arg(long)]
        team: String,
        /// Who authors annotations that name no one.
        #[arg(long, default_value = "Imported")]
        author: String,
    },
}

#[derive(Subcommand)]
enum TeamCommand {
    /// Create a team; prints its id.
    Create { name: String },
    /// Show the team's screen rules, or change them. A rule is a path pattern where `*`
    /// stands for one segment and a final `**` for the rest (`/wards/*/board`); it groups
    /// the pages one tip shows on, beyond the default rules (numbers, UUIDs, id codes).
    Rules {
        #[arg(long)]
        team: String,
        /// Add a rule (repeatable).
        #[arg(long)]
        add: Vec<String>,
        /// Remove a rule (repeatable).
        #[arg(long)]
        remove: Vec<String>,
    },
    /// Show the team's identifying fields, or change them. A field is `kind: selector`
    /// (`mrn: #banner .chart-no`): the CSS selector of elements whose text identifies a
    /// patient, which every member's browser redacts from shared tips, beyond the default
    /// labelled fields (Name, MRN, DOB, Address, Phone…).
    Fields {
        #[arg(long)]
        team: String,
        /// Add a field (repeatable).
        #[arg(long)]
        add: Vec<String>,
        /// Remove a field (repeatable).
        #[arg(long)]
        remove: Vec<String>,
    },
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Add a member; prints the bearer token as the last line (it is not shown again).
    Add {
        #[arg(long)]
        team: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "member", value_parser = ["member", "curator", "admin"])]
        role: String,
    },
    /// Revoke a member's token; it stops working at once.
    Revoke {
        #[arg(long)]
        member: String,
    },
    /// Give a member a new token (a lost one, or after a revocation); the old one stops
    /// working at once. Prints the token as the last line.
    Token {
        #[arg(long)]
        member: String,
    },
}

/// The demo team `cargo xtask run` serves: a ward's charge nurse (curator) and a nurse.
const DEMO_TEAM: &str = "Riverside demo: 4 West";
const DEMO_MEMBERS: [(&str, Role); 2] = [("Dana (charge RN)", Role::Curator), ("Sam (RN)", Role::Member)];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let url =
        cli.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", cli.data_dir.join("inflow.db").display()));
    let db = Db::connect(&url).await.with_context(|| format!("opening the database at {}", redact(&url)))?;
    match cli.command {
        Command::Serve { listen } => {
            // Logs go to standard error, filtered by RUST_LOG (`RUST_LOG=debug` shows every
            // request with its id); warnings and errors by default.
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
                )
                .with_writer(std::io::stderr)
                .init();
            let listener =
                tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
            println!("inflow-server listening on http://{} ({:?} database)", listener.local_addr()?, db.backend);
            axum::serve(listener, app(AppState::new(db, &url))).with_graceful_shutdown(shutdown()).await?;
        }
        Command::Team { command: TeamCommand::Create { name } } => {
            if name.trim().is_empty() {
                bail!("a team needs a name");
            }
            match db.create_team(name.trim()).await? {
                Some(id) => println!("{id}"),
                None => bail!(
                    "a team called {:?} already exists; team names are unique so `--team NAME` names one",
                    name.trim()
                ),
            }
        }
        Command::Team { command: TeamCommand::Rules { team, add, remove } } => {
            let mut rules = db.team(&team).await?.with_context(|| format!("there is no team {team}"))?.screen_rules;
            for rule in add {
                let rule = inflow_core::screen::ScreenRule::parse(&rule).with_context(|| format!("`{rule}`"))?;
                if !rules.iter().any(|r| r == rule.as_str()) {
                    rules.push(rule.as_str().to_owned());
                }
            }
            rules.retain(|r| !remove.iter().any(|gone| gone.trim() == r));
            inflow_core::screen::parse_rules(&rules)?;
            db.set_screen_rules(&team, &rules).await?;
            println!("{} screen rule(s) for team {team}; members receive them at their next sync:", rules.len());
            for rule in &rules {
                println!("  {rule}");
            }
        }
        Command::Team { command: TeamCommand::Fields { team, add, remove } } => {
            use inflow_core::fields::{parse_field_rules, FieldRule};
            let kept = db.team(&team).await?.with_context(|| format!("there is no team {team}"))?.identifying_fields;
            let removed: Vec<FieldRule> = remove
                .iter()
                .map(|r| FieldRule::parse(r).with_context(|| format!("`{r}`")))
                .collect::<anyhow::Result<_>>()?;
            let mut fields: Vec<FieldRule> = parse_field_rules(&kept)?;
            for text in add {
                fields.push(FieldRule::parse(&text).with_context(|| format!("`{text}`"))?);
            }
            fields.retain(|f| !removed.contains(f));
            let texts: Vec<String> = parse_field_rules(&fields.iter().map(FieldRule::to_text).collect::<Vec<_>>())?
                .iter()
                .map(FieldRule::to_text)
                .collect();
            db.set_identifying_fields(&team, &texts).await?;
            println!("{} identifying field(s) for team {team}; members receive them at their next sync:", texts.len());
            for field in &texts {
                println!("  {field}");
            }
        }
        Command::Member { command: MemberCommand::Add { team, name, role } } => {
            if !db.team_exists(&team).await? {
                bail!("there is no team {team}; create one with `inflow-server team create NAME`");
            }
            let role = Role::parse(&role).context("role must be member, curator or admin")?;
            let (id, token) = db.add_member(&team, name.trim(), role).await?;
            println!("member {id} ({}) added to team {team}; its token (shown only now):", role.as_str());
            println!("{token}");
        }
        Command::Member { command: MemberCommand::Revoke { member } } => {
            if !db.revoke_member(&member).await? {
                bail!("there is no member {member}");
            }
            println!("member {member} revoked");
        }
        Command::Member { command: MemberCommand::Token { member } } => {
            let token = db.reissue_token(&member).await?.with_context(|| format!("there is no member {member}"))?;
            println!("member {member} has a new token (shown only now); the old one no longer works:");
            println!("{token}");
        }
        Command::Demo => {
            let team = match db.team_named(DEMO_TEAM).await? {
                Some(team) => team,
                None => db.create_team(DEMO_TEAM).await?.context("the demo team was made meanwhile; run again")?,
            };
            println!("team {team} {DEMO_TEAM}");
            for (name, role) in DEMO_MEMBERS {
                let token = match db.member_named(&team, name).await? {
                    Some(member) => db.reissue_token(&member).await?.context("the demo member vanished")?,
                    None => db.add_member(&team, name, role).await?.1,
                };
                println!("member {} {token} {name}", role.as_str());
            }
        }
        Command::Export { team, format, collection, query, status, everything, out, cmi5_script, home_page } => {
            let cmi5 = format.eq_ignore_ascii_case(cmi5::FORMAT_NAME);
            if cmi5 && out.is_none() {
                bail!("a cmi5 package is a zip file: say where to write it with --out course.zip");
            }
            let cmi5_script = if cmi5 {
                std::fs::read_to_string(&cmi5_script).with_context(|| {
                    format!(
                        "could not read the cmi5 course's script {} (`cargo xtask build` makes it as dist/cmi5-au.js; point --cmi5-script at it)",
                        cmi5_script.display()
                    )
                })?
            } else {
                String::new()
            };
            let bytes = if format.eq_ignore_ascii_case("xapi") {
                let home_page = home_page.context(
                    "say the address members know this server by with --home-page https://… (xAPI names accounts by it)",
                )?;
                let team = resolve_team(&db, &team.context("--team is needed (its id or name)")?).await?;
                let name = collection.context("--collection names the walkthrough whose records to export")?;
                let collections = db.collections(&team).await?;
                let found = collections
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(name.trim()))
                    .with_context(|| format!("the team has no collection {name:?}"))?;
                let walkthrough = found.walkthrough.as_ref().with_context(|| format!("{name:?} is no walkthrough"))?;
                let records = db.walkthrough_records(&team, found.id).await?;
                let statements: Vec<serde_json::Value> = records
                    .iter()
                    .map(|(member, record)| record.statement(member, &walkthrough.title, &home_page))
                    .collect();
                eprintln!("{}: {} member record(s) as xAPI statements", walkthrough.title, statements.len());
                (serde_json::to_string_pretty(&statements)? + "\n").into_bytes()
            } else if format == "backup" {
                let team = match team {
                    Some(team) => Some(resolve_team(&db, &team).await?),
                    None => None,
                };
                (serde_json::to_string_pretty(&db.export(team.as_deref()).await?)? + "\n").into_bytes()
            } else {
                let format = match Format::parse(&format) {
                    Some(format) => Some(format),
                    None if cmi5 => None,
                    None => bail!("unknown format {format:?}: use markdown, html, csv, jsonld, cmi5, xapi or backup"),
                };
                let team = resolve_team(&db, &team.context("--team is needed (its id or name)")?).await?;
                let team_name = db.team(&team).await?.context("the team vanished")?.name;
                let tips = db.tips(&team).await?;
                let collections = db.collections(&team).await?;
                let selection = match (collection, query, everything) {
                    (Some(name), _, _) => {
                        let found = collections.iter().find(|c| c.name.eq_ignore_ascii_case(name.trim()));
                        let names: Vec<&str> = collections.iter().map(|c| c.name.as_str()).collect();
                        Selection::Collection {
                            id: found
                                .with_context(|| {
                                    format!("the team has no collection {name:?}; it has: {}", names.join(", "))
                                })?
                                .id,
                        }
                    }
                    (None, Some(query), _) => {
                        let status = match status {
                            Some(s) => Some(serde_json::from_value(serde_json::json!(s)).map_err(|_| {
                                anyhow::anyhow!("unknown status {s:?}: use shared, proposed, approved or retired")
                            })?),
                            None => None,
                        };
                        Selection::Filter { query, status }
                    }
                    (None, None, true) => Selection::Everything,
                    (None, None, false) => Selection::Approved,
                };
                let sheet = Sheet {
                    title: selection.describe(&collections),
                    team: team_name,
                    generated: inflow_core::Timestamp(inflow_server::db::now_ms()),
                    tips: selection.pick(&tips, &collections),
                    collections: &collections,
                };
                let total = sheet.tips.len();
                let mut progress = |done: usize, total: usize| {
                    if total >= 1000 && done.is_multiple_of(2500) {
                        eprintln!("exported {done} of {total} tips");
                    }
                };
                match format {
                    Some(format) => {
                        let text = render(format, &sheet, &mut progress);
                        eprintln!("{}: {total} tip(s) as {}", sheet.title, format.label());
                        text.into_bytes()
                    }
                    None => {
                        let ids = cmi5::CourseIds::of(&selection, &sheet);
                        let package = cmi5::package(&sheet, &ids, &cmi5_script, &mut progress)?;
                        eprintln!("{}: {total} step(s) as a cmi5 course ({})", sheet.title, ids.course);
                        package
                    }
                }
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, bytes).with_context(|| format!("could not write {}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
                None => {
                    use std::io::Write as _;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
        }
        Command::Import { file, team, author } => {
            let team = resolve_team(&db, &team).await?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("could not read {}", file.display()))?;
            let report = inflow_server::curation::import_annotations(&db, &team, &text, &author)
                .await
                .map_err(|e| anyhow::anyhow!("{} cannot be imported: {}", file.display(), e.message))?;
            println!("{}", report.summary());
            // What the file said is printed escaped: an id could carry terminal escape sequences.
            use inflow_core::import::printable;
            for skipped in report.skipped {
                println!("skipped {}: {}", printable(&skipped.annotation), printable(&skipped.reason));
            }
            for partly in report.partly {
                println!("read in part {}: {}", printable(&partly.annotation), printable(&partly.reason));
            }
        }
    }
    Ok(())
}

/// A team by id or by name.
async fn resolve_team(db: &Db, team: &str) -> anyhow::Result<String> {
    if db.team_exists(team).await? {
        return Ok(team.to_owned());
    }
    match db.teams_named(team).await?.as_slice() {
        [] => bail!("there is no team {team:?} (by id or name)"),
        [one] => Ok(one.clone()),
        // Teams made before names were unique may share one: never pick one silently.
        several => bail!("{} teams are called {team:?}; name one by its id: {}", several.len(), several.join(", ")),
    }
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
