//! A member's record of a walkthrough (started, the furthest step reached, completed, and
//! per step how often it was shown on its screen and how often its text or control was not
//! found there), and what curators read from everyone's: how many started and completed,
//! where people stopped, which steps are not found. The device keeps its member's record
//! and sends it; the server merges what it gets with the same rule and sums records for
//! curators, so both agree.

use serde::{Deserialize, Serialize};

use crate::curation::MAX_COLLECTION_TIPS;
use crate::id::TipId;
use crate::time::Timestamp;

/// One member's record of one walkthrough.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Record {
    /// The walkthrough's collection.
    pub collection: TipId,
    pub started: Timestamp,
    pub updated: Timestamp,
    /// How many steps the walkthrough had when it was played.
    pub steps: u32,
    /// The furthest step shown, from 1.
    pub reached: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Timestamp>,
    /// Per step: how often it was shown on its own screen...
    #[serde(default)]
    pub tries: Vec<u32>,
    /// ...and how often its text or control was not found there.
    #[serde(default)]
    pub misses: Vec<u32>,
}

/// Why a record is refused (by the server, of a device's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("a walkthrough has 1 to {MAX_COLLECTION_TIPS} steps")]
    BadSteps,
    #[error("the step reached must be one of the walkthrough's steps")]
    BadReached,
    #[error("per-step counts must have one entry per step, and no more misses than tries")]
    BadCounts,
    #[error("the times must be in range, started first")]
    BadTimes,
}

impl Record {
    /// The record of a walkthrough of `steps` steps started `now`, at its first step.
    pub fn started(collection: TipId, steps: usize, now: Timestamp) -> Record {
        let steps = u32::try_from(steps).unwrap_or(u32::MAX);
        Record {
            collection,
            started: now,
            updated: now,
            steps,
            reached: 1,
            completed: None,
            tries: vec![0; steps as usize],
            misses: vec![0; steps as usize],
        }
    }

    pub fn validate(&self) -> Result<(), RecordError> {
        let steps = self.steps as usize;
        if steps == 0 || steps > MAX_COLLECTION_TIPS {
            return Err(RecordError::BadSteps);
        }
        if self.reached == 0 || self.reached > self.steps {
            return Err(RecordError::BadReached);
        }
        let counts_fit = self.tries.len() == steps && self.misses.len() == steps;
        if !counts_fit || self.misses.iter().zip(&self.tries).any(|(miss, tries)| miss > tries) {
            return Err(RecordError::BadCounts);
        }
        let times = [Some(self.started), Some(self.updated), self.completed];
        if times.iter().flatten().any(|t| !t.in_range()) || self.updated < self.started {
            return Err(RecordError::BadTimes);
        }
        Ok(())
    }

    /// Step `number` (from 1) was shown.
    pub fn reach(&mut self, number: usize, now: Timestamp) {
        let number = u32::try_from(number).unwrap_or(u32::MAX).min(self.steps);
        self.reached = self.reached.max(number);
        self.updated = now;
    }

    /// Step `number` was shown on its own screen; `found`: its text or control was there.
    pub fn tried(&mut self, number: usize, found: bool, now: Timestamp) {
        let Some(at) = number.checked_sub(1).filter(|at| *at < self.tries.len()) else { return };
        self.tries[at] = self.tries[at].saturating_add(1);
        if !found {
            self.misses[at] = self.misses[at].saturating_add(1);
        }
        self.updated = now;
    }

    pub fn complete(&mut self, now: Timestamp) {
        self.reached = self.steps;
        self.completed.get_or_insert(now);
        self.updated = now;
    }

    /// One record of two of the same member and walkthrough (a device's newer one and the
    /// server's, or two devices'): the earliest start and completion, the furthest step,
    /// the larger count of each step. The same whatever the order, and merging a record
    /// again changes nothing.
    pub fn merge(&self, other: &Record) -> Record {
        let counts = |a: &[u32], b: &[u32]| -> Vec<u32> {
            (0..a.len().max(b.len()))
                .map(|i| a.get(i).copied().unwrap_or(0).max(b.get(i).copied().unwrap_or(0)))
                .collect()
        };
        let steps = self.steps.max(other.steps);
        let pad = |mut counts: Vec<u32>| {
            counts.resize(steps as usize, 0);
            counts
        };
        Record {
            collection: self.collection,
            started: self.started.min(other.started),
            updated: self.updated.max(other.updated),
            steps,
            reached: self.reached.max(other.reached),
            completed: match (self.completed, other.completed) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            tries: pad(counts(&self.tries, &other.tries)),
            misses: pad(counts(&self.misses, &other.misses)),
        }
    }
}

impl Record {
    /// The record as an xAPI statement (its export form, for a learning record store):
    /// the member as an account on `home_page` (the address the team knows its Inflow
    /// server by), "completed" or "progressed" the walkthrough `title`, with how far in
    /// cmi5's progress extension and the per-step counts under Inflow's terms.
    pub fn statement(&self, member: &str, title: &str, home_page: &str) -> serde_json::Value {
        let (verb, display) = match self.completed {
            Some(_) => ("http://adlnet.gov/expapi/verbs/completed", "completed"),
            None => ("http://adlnet.gov/expapi/verbs/progressed", "progressed"),
        };
        let progress =
            if self.steps == 0 { 0 } else { u64::from(self.reached.min(self.steps)) * 100 / u64::from(self.steps) };
        serde_json::json!({
            "actor": { "objectType": "Agent", "name": member, "account": { "homePage": home_page, "name": member } },
            "verb": { "id": verb, "display": { "en": display } },
            "object": {
                "objectType": "Activity",
                "id": format!("urn:inflow:walkthrough:{}", self.collection),
                "definition": { "name": { "en": title }, "type": "http://adlnet.gov/expapi/activities/module" },
            },
            "result": {
                "completion": self.completed.is_some(),
                "extensions": {
                    "https://w3id.org/xapi/cmi5/result/extensions/progress": progress,
                    format!("{}stepTries", crate::export::NAMESPACE): self.tries,
                    format!("{}stepMisses", crate::export::NAMESPACE): self.misses,
                },
            },
            "timestamp": self.completed.unwrap_or(self.updated).to_string(),
        })
    }
}

/// What curators see of a walkthrough: everyone's records summed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub started: usize,
    pub completed: usize,
    /// Of those not completed, how many stopped at each step (from 1): `(step, people)`.
    pub stopped_at: Vec<(u32, usize)>,
    /// Steps not found on their screen at least once: `(step, misses, tries)`.
    pub not_found: Vec<(u32, u32, u32)>,
}

impl Summary {
    pub fn of(records: &[Record]) -> Summary {
        let mut stopped = std::collections::BTreeMap::new();
        let (mut tries, mut misses) = (Vec::<u32>::new(), Vec::<u32>::new());
        for record in records {
            if record.completed.is_none() {
                *stopped.entry(record.reached).or_insert(0) += 1;
            }
            for (i, (t, m)) in record.tries.iter().zip(&record.misses).enumerate() {
                if tries.len() <= i {
                    tries.resize(i + 1, 0);
                    misses.resize(i + 1, 0);
                }
                tries[i] = tries[i].saturating_add(*t);
                misses[i] = misses[i].saturating_add(*m);
            }
        }
        let not_found = (0..tries.len())
            .filter(|&i| misses[i] > 0)
            .map(|i| (u32::try_from(i + 1).unwrap_or(u32::MAX), misses[i], tries[i]))
            .collect();
        Summary {
            started: records.len(),
            completed: records.iter().filter(|r| r.completed.is_some()).count(),
            stopped_at: stopped.into_iter().collect(),
            not_found,
        }
    }

    /// The summary in words, for the panel: "3 started · 1 completed · 2 stopped at step 2
    /// · step 3 was not found on 4 of 9 tries".
    pub fn in_words(&self) -> String {
        let mut parts = vec![format!("{} started", self.started), format!("{} completed", self.completed)];
        for (step, people) in &self.stopped_at {
            parts.push(format!("{people} stopped at step {step}"));
        }
        for (step, misses, tries) in &self.not_found {
            parts.push(format!("step {step} was not found on {misses} of {tries} tries"));
        }
        parts.join(" \u{b7} ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    fn id() -> TipId {
        TipId::new_v7(1, [7; 10])
    }

    #[test]
    fn a_record_follows_the_walkthrough_and_refuses_what_cannot_be() {
        let mut record = Record::started(id(), 3, NOW);
        assert_eq!(record.validate(), Ok(()));
        record.reach(2, Timestamp(NOW.0 + 1));
        record.tried(2, false, Timestamp(NOW.0 + 2));
        record.tried(2, true, Timestamp(NOW.0 + 3));
        record.tried(9, false, NOW); // no such step: nothing
        assert_eq!((record.reached, record.tries.clone(), record.misses.clone()), (2, vec![0, 2, 0], vec![0, 1, 0]));
        record.reach(1, NOW);
        assert_eq!(record.reached, 2, "going back does not undo how far one got");
        record.complete(Timestamp(NOW.0 + 5));
        record.complete(Timestamp(NOW.0 + 9));
        assert_eq!(
            (record.reached, record.completed),
            (3, Some(Timestamp(NOW.0 + 5))),
            "completed once, at its first time"
        );
        assert_eq!(record.validate(), Ok(()));
        assert_eq!(Record { reached: 4, ..record.clone() }.validate(), Err(RecordError::BadReached));
        assert_eq!(Record { misses: vec![0, 3, 0], ..record.clone() }.validate(), Err(RecordError::BadCounts));
        assert_eq!(Record { tries: vec![0], ..record.clone() }.validate(), Err(RecordError::BadCounts));
        assert_eq!(Record { steps: 0, ..record.clone() }.validate(), Err(RecordError::BadSteps));
        assert_eq!(Record { updated: Timestamp(NOW.0 - 1), ..record.clone() }.validate(), Err(RecordError::BadTimes));
        assert_eq!(
            Record { completed: Some(Timestamp(253_402_300_800_000)), ..record }.validate(),
            Err(RecordError::BadTimes),
            "the year 10000"
        );
    }

    #[test]
    fn merging_is_order_free_and_idempotent() {
        let mut a = Record::started(id(), 3, NOW);
        a.tried(1, true, Timestamp(NOW.0 + 1));
        let mut b = Record::started(id(), 3, Timestamp(NOW.0 + 10));
        b.reach(3, Timestamp(NOW.0 + 20));
        b.tried(3, false, Timestamp(NOW.0 + 20));
        b.complete(Timestamp(NOW.0 + 30));
        let merged = a.merge(&b);
        assert_eq!(merged, b.merge(&a));
        assert_eq!(merged.merge(&b), merged);
        assert_eq!((merged.started, merged.reached, merged.completed), (NOW, 3, Some(Timestamp(NOW.0 + 30))));
        assert_eq!((merged.tries, merged.misses), (vec![1, 0, 1], vec![0, 0, 1]));
    }

    #[test]
    fn a_record_exports_as_an_xapi_statement() {
        let mut record = Record::started(id(), 4, NOW);
        record.reach(2, Timestamp(NOW.0 + 1000));
        let statement = record.statement("Sam", "Orders after the upgrade", "https://inflow.example.org");
        assert_eq!(statement["verb"]["id"], "http://adlnet.gov/expapi/verbs/progressed");
        assert_eq!(statement["actor"]["account"]["name"], "Sam");
        assert_eq!(statement["object"]["id"], format!("urn:inflow:walkthrough:{}", id()));
        assert_eq!(statement["result"]["extensions"]["https://w3id.org/xapi/cmi5/result/extensions/progress"], 50);
        assert_eq!(statement["result"]["completion"], false);
        assert_eq!(statement["timestamp"], Timestamp(NOW.0 + 1000).to_string());
        record.complete(Timestamp(NOW.0 + 2000));
        let statement = record.statement("Sam", "Orders after the upgrade", "https://inflow.example.org");
        assert_eq!(statement["verb"]["id"], "http://adlnet.gov/expapi/verbs/completed");
        assert_eq!(statement["result"]["completion"], true);
        assert_eq!(statement["result"]["extensions"]["urn:inflow:terms:stepTries"], serde_json::json!([0, 0, 0, 0]));
    }

    #[test]
    fn curators_read_how_many_started_completed_stopped_and_missed() {
        let mut done = Record::started(id(), 3, NOW);
        done.tried(3, false, NOW);
        done.tried(3, true, NOW);
        done.complete(NOW);
        let mut stopped = Record::started(id(), 3, NOW);
        stopped.reach(2, NOW);
        stopped.tried(3, false, NOW);
        let summary = Summary::of(&[done, stopped]);
        assert_eq!(summary.started, 2);
        assert_eq!(summary.completed, 1);
        assert_eq!(summary.stopped_at, vec![(2, 1)]);
        assert_eq!(summary.not_found, vec![(3, 2, 3)]);
        assert_eq!(
            summary.in_words(),
            "2 started \u{b7} 1 completed \u{b7} 1 stopped at step 2 \u{b7} step 3 was not found on 2 of 3 tries"
        );
        assert_eq!(Summary::of(&[]).in_words(), "0 started \u{b7} 0 completed");
    }
}
