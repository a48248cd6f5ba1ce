//! The engine: `execute(actor, command)` runs one transaction that changes state, writes
//! an event per change and the outbox rows those events need. Reads are plain queries.

mod access;
mod attachments;
mod automation;
mod cases;
mod casetypes;
mod catalogue;
mod customers;
mod desk;
mod escalation;
mod intents;
pub(crate) mod merge;
mod notifications;
pub mod permissions;
mod plan;
mod portal;
mod references;
pub mod replica;
mod reports;
pub(crate) mod routing;
mod sla;
mod sync;
mod tasks;
mod timers;

use crate::casetype::CaseTypeDef;
use crate::clock::Clock;
use crate::command::{Command, Executed};
use crate::error::{Error, Result};
use crate::model::*;
use crate::store::{Db, EventDraft, OpenOptions, Tx};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

pub use access::TokenKind;
pub use attachments::sanitise_file_name;
pub use automation::{RuleTrial, TrialSubject};
pub use catalogue::{CaseTypeSource, Catalogue, QueueEntry, StaffMember};
pub use customers::ImportReport;
pub use notifications::NotificationCentre;
pub use portal::{FormFile, PortalCase, PortalLink, WebForm, MAX_FORM_FILES};
pub use replica::{sync_once, ConflictRecord, HubLink, SyncRound, SyncStatus};
pub use reports::{Board, HistoricalReport};
pub use routing::RouteTarget;
pub use sync::{ChangePage, PushOutcome, PushedCommand, ReferenceBlock};
pub use timers::{TimerQueue, TimerSubject};

/// How many due clocks one service-level transaction handles at most.
pub const TIMER_BATCH: usize = 500;

/// The database file inside a data directory.
pub const DB_FILE: &str = "casedesk.sqlite";

#[derive(Debug, Clone)]
pub struct Limits {
    pub attachment_max_bytes: u64,
    /// Events folded into report lives per transaction when reports catch up with the
    /// log (commands get the database between windows).
    pub report_catch_up_window: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { attachment_max_bytes: 25 * 1024 * 1024, report_catch_up_window: 50_000 }
    }
}

pub struct Engine {
    db: Mutex<Db>,
    clock: Arc<dyn Clock>,
    data_dir: PathBuf,
    limits: Limits,
    /// Published versions never change, so their parsed definitions are cached.
    types: Mutex<HashMap<(String, u32), Arc<CaseTypeDef>>>,
    /// Keeps ids made in the same millisecond in creation order.
    ids: Mutex<uuid::ContextV7>,
    /// The next at-risk and breach instants of every running clock.
    timers: Mutex<TimerQueue>,
    /// Intent suggestion's model, built on first use.
    intents: Mutex<Option<intents::IntentModel>>,
    /// Business rules with their expressions compiled, per published case-type version…
    rulebooks: Mutex<HashMap<(String, u32), Arc<automation::Rulebook>>>,
    /// …and the workspace's, with the stored text they were built from.
    workspace_rules: Mutex<Option<(String, Arc<automation::Rulebook>)>>,
    /// The clock that orders commands made here for the hub (resumed on first use).
    hlc: Mutex<Option<crate::hlc::Hlc>>,
    /// Held while a pushed command is applied, so a push retried while its first copy is
    /// still being applied is answered as a repeat (never run twice, never refused).
    pushes: Mutex<()>,
}

/// The clocks and timed-rule instants a command started, for the timer queue.
pub(crate) type CommandTimers = (Vec<(crate::model::SlaClock, TimerSubject)>, Vec<(DateTime<Utc>, TimerSubject)>);

/// The state of one command's execution.
pub(crate) struct Ctx<'a, 'c> {
    pub tx: &'a Tx<'c>,
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
    pub engine: &'a Engine,
    pub events: Vec<Event>,
    pub created_id: Option<String>,
    pub reference: Option<String>,
    pub warnings: Vec<String>,
    /// Tasks and agents whose routing the command may have changed; see `routing::settle`.
    pub route_tasks: Vec<Uuid>,
    pub route_agents: Vec<String>,
    /// Clocks started or moved by the command, for the timer queue after commit.
    pub timers: Vec<(crate::model::SlaClock, TimerSubject)>,
    /// Timed-rule instants the command scheduled, likewise.
    pub rule_timers: Vec<(DateTime<Utc>, TimerSubject)>,
    /// The workspace's rules as this command found them (read once per command).
    pub workspace_rules: std::cell::OnceCell<Arc<automation::Rulebook>>,
    /// Where a command for the hub came from: its ids and reference are then the same
    /// wherever it runs (the desktop that made it, its replays there, and the hub).
    pub origin: Option<Origin>,
    ids_made: std::cell::Cell<u16>,
    /// The reference number this command took, if it opened a case.
    pub reference_taken: Option<i64>,
}

/// A command that is, or will be, pushed to the hub.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// Made on this desktop: a new case takes its number from this desktop's block, or
    /// keeps the one it took the first time (a replay).
    Local { command_id: Uuid, made_at_ms: i64, reference: Option<i64> },
    /// Pushed by a client: the number it took must be in a block reserved for it.
    Pushed { command_id: Uuid, made_at_ms: i64, client_id: String, reference: Option<i64> },
}

impl<'a, 'c> Ctx<'a, 'c> {
    pub fn new(tx: &'a Tx<'c>, actor: &'a Actor, engine: &'a Engine) -> Self {
        Ctx {
            tx,
            actor,
            now: engine.clock.now(),
            engine,
            events: vec![],
            created_id: None,
            reference: None,
            warnings: vec![],
            route_tasks: vec![],
            route_agents: vec![],
            timers: vec![],
            rule_timers: vec![],
            workspace_rules: std::cell::OnceCell::new(),
            origin: None,
            ids_made: std::cell::Cell::new(0),
            reference_taken: None,
        }
    }

    /// The number of a new case's reference; see [`Origin`].
    pub fn reference_number(&mut self, prefix: &str) -> Result<i64> {
        let n = match &self.origin {
            None => self.tx.next_reference_number(prefix)?,
            Some(Origin::Local { reference: Some(n), .. }) => *n,
            Some(Origin::Local { reference: None, .. }) => self.tx.block_reference_number(prefix)?.ok_or_else(|| {
                Error::Conflict(format!(
                    "this desktop has no {prefix} references left to give a case made offline; connect to the hub for more"
                ))
            })?,
            Some(Origin::Pushed { client_id, reference: Some(n), .. }) => {
                if !self.tx.reference_reserved_for(prefix, *n, client_id)? {
                    return Err(Error::field(
                        "reference",
                        format!("{prefix} {n} is not in a block this hub reserved for client {client_id}"),
                    ));
                }
                *n
            }
            Some(Origin::Pushed { reference: None, .. }) => self.tx.next_reference_number(prefix)?,
        };
        references::check_left(prefix, n)?;
        self.reference_taken = Some(n);
        Ok(n)
    }

    /// Runs `f` in a savepoint: on error, what it wrote is rolled back and the command
    /// goes on (a business rule's actions apply all or none). What the command reports
    /// (its created id and reference) is never changed by `f`.
    pub fn attempt<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.tx.execute_batch("SAVEPOINT attempt")?;
        let marks = (
            self.events.len(),
            self.route_tasks.len(),
            self.route_agents.len(),
            self.timers.len(),
            self.rule_timers.len(),
            self.warnings.len(),
        );
        let reported = (self.created_id.clone(), self.reference.clone());
        let out = f(self);
        (self.created_id, self.reference) = reported;
        match out {
            Ok(v) => {
                self.tx.execute_batch("RELEASE attempt")?;
                Ok(v)
            }
            Err(e) => {
                self.tx.execute_batch("ROLLBACK TO attempt; RELEASE attempt")?;
                self.events.truncate(marks.0);
                self.route_tasks.truncate(marks.1);
                self.route_agents.truncate(marks.2);
                self.timers.truncate(marks.3);
                self.rule_timers.truncate(marks.4);
                self.warnings.truncate(marks.5);
                Err(e)
            }
        }
    }
}

impl Ctx<'_, '_> {
    pub fn emit(
        &mut self,
        kind: &str,
        case_id: Option<Uuid>,
        task_id: Option<Uuid>,
        before: Value,
        after: Value,
    ) -> Result<()> {
        let event = self.tx.append_event(&EventDraft {
            case_id,
            task_id,
            actor: &self.actor.user_id,
            at: self.now,
            kind,
            before,
            after,
        })?;
        for topic in outbox_topics(kind) {
            self.tx.enqueue_outbox(event.seq, topic, self.now)?;
        }
        self.events.push(event);
        Ok(())
    }

    /// Time-ordered ids (UUID v7) from the engine's clock; for a command bound for the
    /// hub, from its id and the time it was made, in the order the command makes them.
    pub fn new_id(&self) -> Uuid {
        if let Some(Origin::Local { command_id, made_at_ms, .. } | Origin::Pushed { command_id, made_at_ms, .. }) =
            &self.origin
        {
            use sha2::Digest;
            let n = self.ids_made.get();
            self.ids_made.set(n.wrapping_add(1));
            let digest =
                sha2::Sha256::new().chain_update(command_id.as_bytes()).chain_update(n.to_be_bytes()).finalize();
            let mut bytes = [0u8; 10];
            bytes[..2].copy_from_slice(&n.to_be_bytes());
            bytes[2..].copy_from_slice(&digest[..8]);
            return uuid::Builder::from_unix_timestamp_millis(*made_at_ms as u64, &bytes).into_uuid();
        }
        let context = self.engine.ids.lock().unwrap_or_else(|p| p.into_inner());
        let ts = uuid::Timestamp::from_unix(&*context, self.now.timestamp() as u64, self.now.timestamp_subsec_nanos());
        Uuid::new_v7(ts)
    }

    pub fn case_type(&self, case_type: &str, version: u32) -> Result<Arc<CaseTypeDef>> {
        self.engine.case_type_in(self.tx, case_type, version)
    }

    pub fn case(&self, id: Uuid) -> Result<Case> {
        self.tx.case(id)?.ok_or_else(|| Error::not_found("case", id))
    }

    pub fn task(&self, id: Uuid) -> Result<Task> {
        self.tx.task(id)?.ok_or_else(|| Error::not_found("task", id))
    }
}

/// Which outbox topics an event feeds: the one place that decides what leaves the
/// transaction for the outside world.
pub fn outbox_topics(kind: &str) -> &'static [&'static str] {
    match kind {
        "task_assigned" | "task_escalated" | "case_closed" | "case_created" | "task_offered" | "task_at_risk"
        | "task_breached" => &["notify"],
        _ => &[],
    }
}

impl Engine {
    /// Opens the workspace in `data_dir` (created if missing): the database file and the
    /// attachment store.
    pub fn open(data_dir: &Path, clock: Arc<dyn Clock>, opts: OpenOptions) -> Result<Engine> {
        std::fs::create_dir_all(data_dir)?;
        Self::on(Db::open(&data_dir.join(DB_FILE), opts)?, data_dir, clock)
    }

    /// Opens the workspace held in a PostgreSQL database (a hub's), with its attachment
    /// store in `data_dir`.
    pub fn open_postgres(url: &str, data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Engine> {
        std::fs::create_dir_all(data_dir)?;
        Self::on(Db::open_postgres(url)?, data_dir, clock)
    }

    fn on(db: Db, data_dir: &Path, clock: Arc<dyn Clock>) -> Result<Engine> {
        let timers = TimerQueue::load(&db)?;
        Ok(Engine {
            db: Mutex::new(db),
            clock,
            data_dir: data_dir.to_path_buf(),
            limits: Limits::default(),
            types: Default::default(),
            ids: Mutex::new(uuid::ContextV7::new()),
            timers: Mutex::new(timers),
            intents: Mutex::new(None),
            rulebooks: Default::default(),
            workspace_rules: Mutex::new(None),
            hlc: Mutex::new(None),
            pushes: Mutex::new(()),
        })
    }

    /// Runs `f` holding the workspace's set-up lock: hub processes started together over
    /// one workspace make its first users or the demo once, the others wait and then
    /// find them made. `f` checks what is there itself.
    pub fn setting_up<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let lock = self.db().lock_set_up()?;
        let out = f();
        self.db().unlock_set_up(lock)?;
        out
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// Runs one command in one transaction. On error nothing is changed.
    pub fn execute(&self, actor: &Actor, command: Command) -> Result<Executed> {
        Ok(self.execute_then(actor, command, |_| Ok(()))?.0)
    }

    /// Executes a command and then `then`, in the same transaction: both commit or neither.
    pub(crate) fn execute_then<T>(
        &self,
        actor: &Actor,
        command: Command,
        then: impl FnOnce(&Tx) -> Result<T>,
    ) -> Result<(Executed, T)> {
        self.execute_from(actor, command, None, |tx, _| then(tx))
    }

    /// [`Self::execute_then`] for a command bound for the hub: `then` also learns the
    /// reference number the command took.
    pub(crate) fn execute_from<T>(
        &self,
        actor: &Actor,
        command: Command,
        origin: Option<Origin>,
        then: impl FnOnce(&Tx, Option<i64>) -> Result<T>,
    ) -> Result<(Executed, T)> {
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let ((executed, timers), then) = db.write(|tx| {
            let (ran, taken) = self.run_in(tx, actor, command, origin)?;
            Ok((ran, then(tx, taken)?))
        })?;
        self.hint_timers(timers);
        Ok((executed, then))
    }

    /// Runs one command inside an open transaction.
    pub(crate) fn run_in(
        &self,
        tx: &Tx,
        actor: &Actor,
        command: Command,
        origin: Option<Origin>,
    ) -> Result<((Executed, CommandTimers), Option<i64>)> {
        // PostgreSQL cannot hold a NUL in text: refused on every back end alike.
        if let Some(field) = command.field_with_nul() {
            return Err(Error::field(field, "must not contain NUL characters"));
        }
        let actor = &effective_actor(tx, actor)?;
        permissions::require_command(actor, &command)?;
        let mut ctx = Ctx::new(tx, actor, self);
        ctx.origin = origin;
        dispatch(&mut ctx, command)?;
        routing::settle(&mut ctx)?;
        automation::schedule(&mut ctx)?;
        // Last, so the rules see the state the whole command left.
        notifications::enqueue(&mut ctx)?;
        let executed = Executed {
            events: ctx.events,
            created_id: ctx.created_id,
            reference: ctx.reference,
            warnings: ctx.warnings,
        };
        Ok(((executed, (ctx.timers, ctx.rule_timers)), ctx.reference_taken))
    }

    /// Only what committed reaches the timer queue.
    pub(crate) fn hint_timers(&self, timers: CommandTimers) {
        let mut queue = self.timers.lock().unwrap_or_else(|p| p.into_inner());
        for (clock, subject) in timers.0 {
            queue.hint(&clock, subject);
        }
        for (at, subject) in timers.1 {
            queue.hint_at(at, subject);
        }
    }

    pub(crate) fn db(&self) -> std::sync::MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The clocks other connections to the database started or moved since this engine
    /// last looked join its timer queue: on PostgreSQL several hub processes share one.
    fn follow_clocks(&self) -> Result<()> {
        let db = self.db();
        self.timers.lock().unwrap_or_else(|p| p.into_inner()).follow(&db)
    }

    /// Reads the timer queue again from the database (after rows were reset under it).
    pub(crate) fn reload_timers(&self, db: &Db) -> Result<()> {
        *self.timers.lock().unwrap_or_else(|p| p.into_inner()) = TimerQueue::load(db)?;
        Ok(())
    }

    /// A write of the engine's own that runs no command (recording a refused push).
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        self.db.lock().unwrap_or_else(|p| p.into_inner()).write(f)
    }

    /// What time drives, checked by the desktop and the hub once a second: routing
    /// (offers that ran out, preferred-agent windows and bullseye rings that came) and
    /// the timer service (at risk, breached, escalation, timed business rules). A read
    /// decides, so an idle second writes nothing.
    pub fn run_due_work(&self) -> Result<()> {
        self.follow_clocks()?;
        let now = self.clock.now();
        if self.next_routing_due()?.is_some_and(|t| t <= now) {
            self.execute(&Actor::system(), Command::RoutingTick)?;
        }
        if self.read(|db| db.setting(automation::SWEEP_KEY))?.is_some() {
            self.execute(&Actor::system(), Command::SweepRuleTimers)?;
        }
        if self.next_timer().is_some_and(|t| t <= now) {
            self.run_due_timers()?;
        }
        Ok(())
    }

    /// When the timer service next has work, if any clock is running.
    pub fn next_timer(&self) -> Option<DateTime<Utc>> {
        self.timers.lock().unwrap_or_else(|p| p.into_inner()).next()
    }

    /// Acts on the clocks due by now (at risk, breached, escalation), in transactions of
    /// at most `TIMER_BATCH` clocks; returns how many were looked at.
    pub fn run_due_timers(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            match self.run_due_timers_limited(TIMER_BATCH)? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }

    /// One service-level transaction of at most `limit` due clocks (benchmarks, tests).
    pub fn run_due_timers_limited(&self, limit: usize) -> Result<usize> {
        let now = self.clock.now();
        let due = self.timers.lock().unwrap_or_else(|p| p.into_inner()).take_due(now, limit);
        let n = due.len();
        if n == 0 {
            return Ok(0);
        }
        if self.execute(&Actor::system(), Command::ServiceLevelTick { due: due.clone() }).is_ok() {
            return Ok(n);
        }
        // One subject failed the batch: each on its own, so the rest are not held up; a
        // failing one is tried again in five minutes.
        let mut first_error = None;
        for subject in due {
            if let Err(e) = self.execute(&Actor::system(), Command::ServiceLevelTick { due: vec![subject] }) {
                let retry = now + chrono::Duration::minutes(5);
                self.timers.lock().unwrap_or_else(|p| p.into_inner()).hint_at(retry, subject);
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    /// How many entries the timer queue holds (stale ones included).
    pub fn timer_queue_len(&self) -> usize {
        self.timers.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Read access for queries.
    pub fn read<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        f(&db)
    }

    fn case_type_in(&self, tx: &Tx, case_type: &str, version: u32) -> Result<Arc<CaseTypeDef>> {
        self.cached_case_type(case_type, version, || tx.case_type_definition(case_type, version))
    }

    /// A published version, parsed once: versions never change.
    fn cached_case_type(
        &self,
        case_type: &str,
        version: u32,
        stored: impl FnOnce() -> Result<Option<String>>,
    ) -> Result<Arc<CaseTypeDef>> {
        let key = (case_type.to_string(), version);
        if let Some(def) = self.types.lock().unwrap().get(&key) {
            return Ok(def.clone());
        }
        let json = stored()?.ok_or_else(|| Error::not_found("case type", format!("{case_type} v{version}")))?;
        let def: Arc<CaseTypeDef> = Arc::new(serde_json::from_str(&json)?);
        self.types.lock().unwrap().insert(key, def.clone());
        Ok(def)
    }

    // ---- queries ---------------------------------------------------------------------

    /// The latest published version of every case type.
    pub fn case_types(&self) -> Result<Vec<CaseTypeDef>> {
        self.read(latest_case_types)
    }

    pub fn case_summaries(&self, limit: u32, offset: u32) -> Result<Vec<CaseSummary>> {
        self.read(|db| db.case_summaries(limit, offset))
    }

    /// A case with everything the case view shows.
    pub fn case_detail(&self, id: Uuid) -> Result<CaseDetail> {
        self.read(|db| {
            let case = db.case(id)?.ok_or_else(|| Error::not_found("case", id))?;
            let customer = match case.customer_id {
                Some(c) => db.customer(c)?,
                None => None,
            };
            let history = db.events_of_case(id)?;
            let def = self.case_type_read(db, &case.case_type, case.type_version)?;
            let links = automation::case_links(&def, &case, customer.as_ref(), history.last());
            let tasks = db.tasks_of_case(id)?;
            let open_steps = tasks
                .iter()
                .filter(|t| t.state.is_open())
                .filter_map(|t| def.step(&t.step).map(|s| OpenStep { task_id: t.id, step: s.clone() }))
                .collect();
            let stages = def.stages.iter().map(|s| StageName { id: s.id.clone(), name: s.name.clone() }).collect();
            Ok(CaseDetail {
                tasks,
                open_steps,
                stages,
                notes: db.notes_of_case(id)?,
                attachments: db.attachments_of_case(id)?,
                interactions: db.interactions_of_case(id)?,
                web_form_author: history
                    .iter()
                    .any(|e| e.actor == permissions::WEB_ACTOR)
                    .then(|| permissions::WEB_ACTOR.to_string()),
                history,
                customer_author: case.customer_id.map(|c| permissions::customer_actor(c).user_id),
                customer,
                links,
                case,
            })
        })
    }

    fn case_type_read(&self, db: &Db, case_type: &str, version: u32) -> Result<Arc<CaseTypeDef>> {
        self.cached_case_type(case_type, version, || db.case_type_definition(case_type, version))
    }

    /// A case as `user` may see it (see `permissions::can_see_case`); not found
    /// otherwise, so a case's existence is not told to those who may not see it.
    pub fn case_detail_for(&self, user: &User, reference: &str) -> Result<CaseDetail> {
        self.case_detail(self.visible_case(user, reference)?.id)
    }

    /// The case with `reference` if `user` may see it; not found otherwise.
    pub fn visible_case(&self, user: &User, reference: &str) -> Result<Case> {
        let case = self.case_by_reference(reference)?.ok_or_else(|| Error::not_found("case", reference))?;
        let tasks = self.read(|db| db.tasks_of_case(case.id))?;
        if !permissions::can_see_case(user, &case, &tasks) {
            return Err(Error::not_found("case", reference));
        }
        Ok(case)
    }

    /// The cases `user` may see, newest first, a page at a time; with `query`, only
    /// those whose reference, subject, description or customer name contains it.
    pub fn case_summaries_for(
        &self,
        user: &User,
        query: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<CaseSummary>> {
        if user.roles.contains(&Role::Admin) {
            return self.read(|db| db.search_case_summaries(query, limit, offset));
        }
        let mut out = vec![];
        let mut skipped = 0;
        let mut at = 0;
        // Read in pages until the caller's page is full or the cases run out.
        loop {
            let page = self.read(|db| db.search_case_summaries(query, 200, at))?;
            if page.is_empty() {
                return Ok(out);
            }
            at += page.len() as u32;
            for s in page {
                let (case, tasks) = self.read(|db| Ok((db.case(s.id)?, db.tasks_of_case(s.id)?)))?;
                let Some(case) = case else { continue };
                if !permissions::can_see_case(user, &case, &tasks) {
                    continue;
                }
                if skipped < offset {
                    skipped += 1;
                    continue;
                }
                out.push(s);
                if out.len() as u32 >= limit {
                    return Ok(out);
                }
            }
        }
    }

    pub fn case_by_reference(&self, reference: &str) -> Result<Option<Case>> {
        self.read(|db| db.case_by_reference(reference))
    }

    /// Customers matching `query` by name, email, phone or external id, for people who
    /// work cases (at most 100).
    pub fn search_customers(&self, actor: &Actor, query: &str, limit: u32) -> Result<Vec<Customer>> {
        permissions::require(actor, permissions::Action::WorkCases)?;
        self.read(|db| db.search_customers(query, limit.min(100)))
    }

    pub fn users(&self) -> Result<Vec<User>> {
        self.read(|db| db.users())
    }

    /// When time-driven routing next has work (see `Command::RoutingTick`).
    pub fn next_routing_due(&self) -> Result<Option<DateTime<Utc>>> {
        self.read(|db| db.next_routing_due())
    }

    /// The extra fields of customer profiles.
    pub fn customer_fields(&self) -> Result<Vec<crate::fields::FieldDef>> {
        self.read(|db| customers::parse_fields(db.setting(customers::FIELDS_KEY)?))
    }

    /// Where an attachment's content is stored on an SQLite workspace.
    pub fn attachment_path(&self, sha256: &str) -> PathBuf {
        attachments::blob_path(&self.data_dir, sha256)
    }

    /// An attachment whose case `user` may see, with its content if this workspace holds
    /// it (a desk may not yet: see [`Engine::keep_attachment_content`]). Not found
    /// otherwise, as for the case itself.
    pub fn attachment_for(&self, user: &User, id: Uuid) -> Result<(Attachment, Option<Vec<u8>>)> {
        self.read(|db| {
            let attachment = db.attachment(id)?.ok_or_else(|| Error::not_found("attachment", id))?;
            let case = db.case(attachment.case_id)?.ok_or_else(|| Error::not_found("attachment", id))?;
            if !permissions::can_see_case(user, &case, &db.tasks_of_case(case.id)?) {
                return Err(Error::not_found("attachment", id));
            }
            let content = attachments::content(db, &self.data_dir, &attachment.sha256)?;
            Ok((attachment, content))
        })
    }

    /// Keeps an attachment's content fetched from the hub, after checking it is that
    /// attachment's (SHA-256 and size).
    pub fn keep_attachment_content(&self, id: Uuid, content: &[u8]) -> Result<()> {
        self.write(|tx| {
            let attachment = tx.attachment(id)?.ok_or_else(|| Error::not_found("attachment", id))?;
            attachments::keep(tx, &self.data_dir, &attachment, content)
        })
    }
}

fn set_notification_preferences(ctx: &mut Ctx, p: crate::notify::NotificationPreferences) -> Result<()> {
    let kinds = crate::notify::mutable_kinds();
    if let Some(bad) = p.muted.iter().find(|k| !kinds.contains(&k.as_str())) {
        return Err(Error::field(
            "muted",
            format!("'{bad}' is not a notification kind; kinds are {}", kinds.join(", ")),
        ));
    }
    let key = crate::notify::preferences_key(&ctx.actor.user_id);
    let before = ctx.tx.setting(&key)?.map(|s| serde_json::from_str(&s)).transpose()?.unwrap_or(Value::Null);
    let after = serde_json::to_value(&p)?;
    if before == after {
        return Ok(());
    }
    ctx.tx.put_setting(&key, &after.to_string(), ctx.now, &ctx.actor.user_id)?;
    ctx.emit("notification_preferences_set", None, None, before, after)
}

/// The latest published version of every case type.
fn latest_case_types(db: &Db) -> Result<Vec<CaseTypeDef>> {
    db.case_type_versions()?.into_iter().map(|(_, _, json)| Ok(serde_json::from_str(&json)?)).collect()
}

/// The actor as the workspace knows them: the user must exist, and their roles are the
/// ones stored, whatever the caller claimed.
fn effective_actor(tx: &Tx, actor: &Actor) -> Result<Actor> {
    if actor.user_id == "system" {
        return Ok(Actor::system());
    }
    if let Some(public) = permissions::public_actor(tx, &actor.user_id)? {
        return Ok(public);
    }
    match tx.user(&actor.user_id)? {
        Some(user) => Ok(Actor { user_id: user.id, roles: user.roles }),
        None => Err(Error::Forbidden {
            actor: actor.user_id.clone(),
            action: "act in this workspace".into(),
            rule: "the user does not exist".into(),
        }),
    }
}

fn dispatch(ctx: &mut Ctx, command: Command) -> Result<()> {
    use Command::*;
    match command {
        PublishCaseType { file_name, source } => casetypes::publish(ctx, &file_name, &source),
        DefineWorkspaceRules { file_name, source } => casetypes::define_workspace_rules(ctx, &file_name, &source),
        SweepRuleTimers => {
            permissions::require(ctx.actor, permissions::Action::Configure)?;
            automation::sweep(ctx)
        }
        CreateUser { id, name, roles, teams } => {
            customers::create_user(ctx, User { id, name, roles, teams, email: None, phone: None })
        }
        UpdateUser { id, name, roles, teams } => customers::update_user(ctx, &id, name, roles, teams),
        SetPasswordHash { user_id, password_hash } => access::set_password_hash(ctx, &user_id, &password_hash),
        OpenAccessToken { user_id, token_digest, kind, label, expires_at } => {
            access::open_access_token(ctx, &user_id, &token_digest, kind, &label, expires_at)
        }
        SetUserContact { user_id, email, phone } => customers::set_user_contact(ctx, &user_id, email, phone),
        DefineNotificationRule { rule } => notifications::define_rule(ctx, rule),
        RemoveNotificationRule { id } => notifications::remove_rule(ctx, &id),
        ConfigureNotificationChannels { settings } => notifications::configure_channels(ctx, settings),
        DefineCustomerFields { fields } => customers::define_fields(ctx, fields),
        CreateCustomer { name, email, phone, external_id, extra } => {
            customers::create(ctx, name, email, phone, external_id, extra)
        }
        UpdateCustomer { customer_id, name, email, phone, external_id, extra } => {
            customers::update(ctx, customer_id, name, email, phone, external_id, extra)
        }
        CreateCase {
            case_type,
            intent,
            customer_id,
            subject,
            description,
            fields,
            priority,
            interaction_id,
            contact,
            external_id,
        } => cases::create(
            ctx,
            cases::NewCase {
                case_type,
                intent,
                customer_id,
                subject,
                description,
                fields,
                priority,
                interaction_id,
                contact,
                external_id,
            },
        ),
        UpdateCaseFields { case_id, fields, external_id } => cases::update_fields(ctx, case_id, fields, external_id),
        ImportCustomers { csv } => customers::import(ctx, &csv),
        SubmitCaseForm { form } => portal::submit_form(ctx, form),
        RequestPortalLink { email, portal_url } => portal::request_link(ctx, &email, &portal_url),
        OpenPortalSession { link_token, session_digest, expires_at } => {
            portal::open_session(ctx, &link_token, &session_digest, expires_at)
        }
        ClosePortalSession { session_digest } => portal::close_session(ctx, &session_digest),
        AddCustomerComment { case_id, body } => portal::add_comment(ctx, case_id, body),
        AddCustomerDocument { case_id, file_name, content_type, content } => {
            portal::add_document(ctx, case_id, &file_name, &content_type, &content)
        }
        ChangeCaseStatus { case_id, status, reason } => cases::change_status(ctx, case_id, &status, reason),
        AssignTask { task_id, assignee } => tasks::assign(ctx, task_id, &assignee),
        StartTask { task_id } => tasks::start(ctx, task_id),
        CompleteTask { task_id, outcome, form_values, reason } => {
            tasks::complete(ctx, task_id, &outcome, form_values, reason)
        }
        AddNote { case_id, body } => cases::add_note(ctx, case_id, body),
        AddAttachment { case_id, file_name, content_type, content } => {
            attachments::add(ctx, case_id, &file_name, &content_type, &content)
        }
        CreateInteraction { channel, external_id, customer_id, summary, case_id } => {
            cases::create_interaction(ctx, channel, external_id, customer_id, summary, case_id)
        }
        LinkInteraction { case_id, interaction_id } => cases::link_interaction(ctx, case_id, interaction_id),
        ReserveReferenceBlock { prefix, size } => references::reserve(ctx, &prefix, size),
        DefineSkills { skills } => routing::define_skills(ctx, skills),
        DefinePresenceLabels { labels } => routing::define_presence_labels(ctx, labels),
        DefineQueue { queue } => routing::define_queue(ctx, queue),
        SetAgentProfile { user_id, profile } => routing::set_agent_profile(ctx, &user_id, profile),
        SetPresence { presence, secondary } => routing::set_presence(ctx, presence, secondary),
        SetOnQueue { on_queue } => routing::set_on_queue(ctx, on_queue),
        AcceptOffer { task_id } => routing::accept_offer(ctx, task_id),
        DeclineOffer { task_id } => routing::decline_offer(ctx, task_id),
        RoutingTick => routing::tick(ctx),
        PullNextTask { queue } => routing::pull_next(ctx, queue),
        ReassignTasks { task_ids, to } => routing::reassign(ctx, task_ids, to),
        ReassignAllOf { user_id, to } => routing::reassign_all_of(ctx, &user_id, to),
        ChangeTaskPriority { task_ids, priority } => routing::change_priority(ctx, task_ids, priority),
        DefineCalendar { calendar } => sla::define_calendar(ctx, calendar),
        ServiceLevelTick { due } => escalation::tick(ctx, due),
        EscalateTask { task_id, reason } => escalation::escalate_by_hand(ctx, task_id, reason),
        OpenTaskOnScreen { task_id } => escalation::open_on_screen(ctx, task_id),
        CloseTaskOnScreen { task_id } => escalation::close_on_screen(ctx, task_id),
        SetNotificationPreferences { preferences } => set_notification_preferences(ctx, preferences),
        ChangeTaskOla { task_ids, ola } => sla::change_ola(ctx, task_ids, ola),
        GrantReferenceBlock { prefix, first, last } => references::grant(ctx, &prefix, first, last),
    }
}
