//! What needs the user and is new to them: teammates' replies to their tips and, for
//! curators, tips that came to wait for a curator. The toolbar badge marks them until the
//! user opens the side panel, which lists them under "For you".
//!
//! "Seen" is a set of keys, one per thing that needed the user, replaced by what needs them
//! whenever they open the panel: it holds no more than the replies on their tips and what
//! waits for a curator now, and a reply that arrives late (written offline yesterday,
//! synced today) is still new, which a seen-until time would miss.

use std::collections::HashSet;

use inflow_core::curation::Status;
use inflow_core::{Timestamp, Tip, TipId, Visibility};
use serde::{Deserialize, Serialize};

/// The settings key of the keys the user has seen (a JSON list).
pub const SEEN: &str = "attention_seen";
/// The settings key of the needs not yet seen, as last worked out (a JSON list of [`Need`]),
/// which each tab's badge shows beside its count.
pub const UNSEEN: &str = "attention_unseen";

/// Why a tip needs the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Why {
    /// A teammate replied to the user's tip.
    Reply,
    /// The tip waits for a curator (suggested, flagged or due), and the user curates.
    Review,
}

/// One thing that needs the user: `key` names it, and changes when it needs them again
/// (a new reply, a second suggestion after a reopen, a new flag, a new due date).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Need {
    pub key: String,
    pub tip: TipId,
    pub why: Why,
}

/// Everything that needs `me` among `tips`, seen or not.
pub fn needs(tips: &[Tip], me: &str, curator: bool, now: Timestamp) -> Vec<Need> {
    let mut needs = Vec::new();
    for tip in tips.iter().filter(|t| t.visibility == Visibility::Team) {
        if tip.author == me {
            for reply in tip.replies.iter().filter(|r| r.author != me) {
                needs.push(Need { key: format!("reply:{}", reply.id), tip: tip.id, why: Why::Reply });
            }
        }
        let c = &tip.curation;
        if !curator || !c.wants_curator(now) {
            continue;
        }
        // What the user did themselves is not news to them: their own suggestion or flag.
        let by_me = c.history.last().is_some_and(|step| step.by == me);
        let key = if let Some(flag) = &c.needs_review {
            (!by_me).then(|| format!("review:{}:flag:{}", tip.id, flag.since.0))
        } else if c.status == Status::Proposed {
            (!by_me).then(|| format!("review:{}:proposed:{}", tip.id, c.history.last().map_or(0, |s| s.at.0)))
        } else {
            // Due: its date came, whoever approved it.
            Some(format!("review:{}:due:{}", tip.id, c.verified.as_ref().map_or(0, |v| v.verify_by.0)))
        };
        if let Some(key) = key {
            needs.push(Need { key, tip: tip.id, why: Why::Review });
        }
    }
    needs
}

/// The needs the user has not seen.
pub fn unseen(needs: Vec<Need>, seen: &HashSet<String>) -> Vec<Need> {
    needs.into_iter().filter(|need| !seen.contains(&need.key)).collect()
}

/// The toolbar button for a tab whose screen shows `shown` tips while `unseen` needs wait:
/// the badge's text, its colour, and the button's title (what a pointer or screen reader
/// is told). The mark of a need is "!" after the count, on another colour.
pub fn toolbar(shown: usize, unseen: &[Need]) -> (String, &'static str, String) {
    let count = match shown {
        0 => String::new(),
        1..=99 => shown.to_string(),
        _ => "99+".to_owned(),
    };
    let mut title = match shown {
        0 => "Inflow".to_owned(),
        1 => "Inflow: 1 tip on this screen".to_owned(),
        n => format!("Inflow: {n} tips on this screen"),
    };
    if unseen.is_empty() {
        return (count, "#1a5fb4", title);
    }
    let replies = unseen.iter().filter(|n| n.why == Why::Reply).count();
    let reviews = unseen.len() - replies;
    let mut waiting = Vec::new();
    match replies {
        0 => {}
        1 => waiting.push("a new reply to your tip".to_owned()),
        n => waiting.push(format!("{n} new replies to your tips")),
    }
    match reviews {
        0 => {}
        1 => waiting.push("a tip to review".to_owned()),
        n => waiting.push(format!("{n} tips to review")),
    }
    title.push_str(&format!(". For you in the side panel: {}.", waiting.join(" and ")));
    (format!("{count}!"), "#a51d2d", title)
}

/// The count a badge's text shows ("3!" is 3; "99+" at least 100; "!" or none is 0).
pub fn shown_in(badge: &str) -> usize {
    let digits = badge.trim_end_matches(['!', '+']);
    let count = digits.parse().unwrap_or(0);
    if badge.trim_end_matches('!').ends_with('+') {
        count + 1
    } else {
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inflow_core::curation::{Action, Parts};
    use inflow_core::model::Reply;
    use inflow_core::{NewTip, Selector};

    const NOW: Timestamp = Timestamp(1_790_000_000_000);

    fn id(n: u8) -> TipId {
        TipId::new_v7(1_790_000_000_000 + u64::from(n), [n; 10])
    }

    fn tip(n: u8, author: &str) -> Tip {
        NewTip {
            page_url: "http://127.0.0.1:8700/patients/1/orders".into(),
            page_title: "Orders".into(),
            note: format!("note {n}"),
            tags: Vec::new(),
            visibility: Visibility::Team,
            selectors: vec![Selector::TextQuote {
                exact: "quote".into(),
                prefix: String::new(),
                suffix: String::new(),
                block: None,
            }],
        }
        .into_tip(id(n), author, NOW)
        .expect("valid")
    }

    fn reply(tip: &mut Tip, n: u8, author: &str) {
        let reply = Reply { id: id(100 + n), author: author.into(), created: NOW, text: "thanks".into() };
        tip.add_reply(reply).expect("reply");
    }

    fn keys(needs: &[Need]) -> Vec<&str> {
        needs.iter().map(|n| n.key.as_str()).collect()
    }

    #[test]
    fn teammates_replies_to_my_tips_need_me_until_seen_and_a_late_one_is_new() {
        let mut mine = tip(1, "Sam");
        reply(&mut mine, 1, "Dana");
        reply(&mut mine, 2, "Sam"); // my own answer is no news
        let mut theirs = tip(2, "Dana");
        reply(&mut theirs, 3, "Lee"); // not my tip
        let mut private = tip(3, "Sam");
        private.visibility = Visibility::Private;
        let tips = vec![mine.clone(), theirs, private];
        let found = needs(&tips, "Sam", false, NOW);
        assert_eq!(keys(&found), [format!("reply:{}", id(101))]);
        assert_eq!(found[0].why, Why::Reply);

        // Opening the panel: what needs me now is seen; a reply older by its clock arrives later.
        let seen: HashSet<String> = found.iter().map(|n| n.key.clone()).collect();
        assert!(unseen(needs(&tips, "Sam", false, NOW), &seen).is_empty());
        let mut later = tips.clone();
        let late =
            Reply { id: id(104), author: "Lee".into(), created: Timestamp(NOW.0 - 86_400_000), text: "late".into() };
        later[0].add_reply(late).expect("reply");
        assert_eq!(keys(&unseen(needs(&later, "Sam", false, NOW), &seen)), [format!("reply:{}", id(104))]);
    }

    #[test]
    fn curators_are_told_of_suggestions_flags_and_due_dates_but_not_their_own_steps() {
        let step = |tip: &mut Tip, by: &str, action: Action, n: u8| {
            tip.curation.take_step(by, &action, Timestamp(NOW.0 + i64::from(n)), id(200 + n), Parts::ALL)
        };
        let mut suggested = tip(1, "Sam");
        step(&mut suggested, "Sam", Action::Propose, 1);
        let mut mine_suggested = tip(2, "Dana");
        step(&mut mine_suggested, "Dana", Action::Propose, 2);
        let mut flagged = tip(3, "Lee");
        step(&mut flagged, "Sam", Action::Flag { reason: "moved".into() }, 3);
        let mut due = tip(4, "Lee");
        step(&mut due, "Dana", Action::Approve { verify_by: Timestamp(NOW.0 + 10) }, 4);
        let tips = vec![suggested, mine_suggested, flagged, due, tip(5, "Lee")];

        assert!(needs(&tips, "Kim", false, NOW).is_empty(), "members are not asked to review");
        let at = Timestamp(NOW.0 + 100);
        let found = needs(&tips, "Dana", true, at);
        assert_eq!(found.iter().map(|n| n.tip).collect::<Vec<_>>(), [id(1), id(3), id(4)]);
        assert!(found.iter().all(|n| n.why == Why::Review));

        // Seen, then suggested again after a reopen: new again.
        let seen: HashSet<String> = found.iter().map(|n| n.key.clone()).collect();
        let mut again = tips.clone();
        step(&mut again[0], "Dana", Action::Reopen, 10);
        step(&mut again[0], "Sam", Action::Propose, 11);
        assert_eq!(unseen(needs(&again, "Dana", true, at), &seen).iter().map(|n| n.tip).collect::<Vec<_>>(), [id(1)]);
    }

    #[test]
    fn the_badge_counts_the_screens_tips_and_marks_a_need_in_words_too() {
        let reply = Need { key: "reply:x".into(), tip: id(1), why: Why::Reply };
        let review = Need { key: "review:y".into(), tip: id(2), why: Why::Review };
        assert_eq!(toolbar(0, &[]), (String::new(), "#1a5fb4", "Inflow".to_owned()));
        assert_eq!(toolbar(3, &[]).0, "3");
        assert_eq!(toolbar(120, &[]).0, "99+");
        let (text, colour, title) = toolbar(3, &[reply.clone(), review.clone(), review]);
        assert_eq!(text, "3!");
        assert_ne!(colour, "#1a5fb4");
        assert_eq!(
            title,
            "Inflow: 3 tips on this screen. For you in the side panel: a new reply to your tip and 2 tips to review."
        );
        assert_eq!(toolbar(0, std::slice::from_ref(&reply)).0, "!");
        for shown in [0, 1, 42, 99, 100] {
            assert_eq!(shown_in(&toolbar(shown, &[]).0), shown);
            assert_eq!(shown_in(&toolbar(shown, std::slice::from_ref(&reply)).0), shown);
        }
    }
}
