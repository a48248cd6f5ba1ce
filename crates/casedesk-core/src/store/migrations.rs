//! The schema, as an ordered list of migrations. The position in the list is the schema
//! version (SQLite's `user_version`). Never edit a published migration: append one.

use rusqlite_migration::{Migrations, M};

/// 'CSKD': marks a SQLite file as a Casedesk database.
pub const APPLICATION_ID: i64 = 0x4353_4B44;

const V1: &str = r#"
PRAGMA application_id = 1129532228;

-- Published case-type versions are immutable: cases pin (case_type, version).
CREATE TABLE case_type_versions (
    case_type    TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    name         TEXT    NOT NULL,
    definition   TEXT    NOT NULL,  -- CaseTypeDef as JSON
    source       TEXT    NOT NULL,  -- the TOML as published
    source_hash  TEXT    NOT NULL,
    published_at INTEGER NOT NULL,
    published_by TEXT    NOT NULL,
    PRIMARY KEY (case_type, version)
) WITHOUT ROWID;
CREATE TRIGGER case_type_versions_immutable BEFORE UPDATE ON case_type_versions
BEGIN SELECT RAISE(ABORT, 'published case-type versions are immutable'); END;
CREATE TRIGGER case_type_versions_undeletable BEFORE DELETE ON case_type_versions
BEGIN SELECT RAISE(ABORT, 'published case-type versions are immutable'); END;

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    roles      TEXT NOT NULL,  -- JSON array
    teams      TEXT NOT NULL,  -- JSON array
    created_at INTEGER NOT NULL
);

CREATE TABLE customers (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,  -- lower-cased, for search
    email       TEXT,
    phone       TEXT,           -- '+' and digits only
    external_id TEXT UNIQUE,
    extra       TEXT NOT NULL,  -- JSON object of configured extra fields
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX customers_name ON customers(name_key);
CREATE INDEX customers_email ON customers(email COLLATE NOCASE);
CREATE INDEX customers_phone ON customers(phone);

-- References: the local sequence per prefix, and blocks of numbers reserved for this
-- database by a hub (used first, so offline clients never collide).
CREATE TABLE reference_sequences (
    prefix TEXT PRIMARY KEY,
    next   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE reference_blocks (
    prefix TEXT    NOT NULL,
    first  INTEGER NOT NULL,
    last   INTEGER NOT NULL,
    next   INTEGER NOT NULL,
    PRIMARY KEY (prefix, first),
    CHECK (first <= next AND next <= last + 1)
) WITHOUT ROWID;

CREATE TABLE cases (
    id              BLOB PRIMARY KEY,
    reference       TEXT    NOT NULL UNIQUE,
    case_type       TEXT    NOT NULL,
    type_version    INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    status_category TEXT    NOT NULL,
    stage           TEXT,
    priority        INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    owner           TEXT REFERENCES users(id),
    customer_id     BLOB REFERENCES customers(id),
    intent          TEXT,
    subject         TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    fields          TEXT    NOT NULL,  -- JSON object
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    closed_at       INTEGER,
    FOREIGN KEY (case_type, type_version) REFERENCES case_type_versions(case_type, version)
);
CREATE INDEX cases_customer ON cases(customer_id);

CREATE TABLE tasks (
    id               BLOB PRIMARY KEY,
    case_id          BLOB    NOT NULL REFERENCES cases(id),
    stage            TEXT    NOT NULL,
    step             TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    queue            TEXT,
    assignee         TEXT REFERENCES users(id),
    priority         INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    escalation_level INTEGER NOT NULL DEFAULT 0,
    outcome          TEXT,
    form_values      TEXT    NOT NULL,
    reason           TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    completed_at     INTEGER
);
CREATE INDEX tasks_case ON tasks(case_id);
CREATE INDEX tasks_assignee ON tasks(assignee, state) WHERE assignee IS NOT NULL;

CREATE TABLE interactions (
    id          BLOB PRIMARY KEY,
    channel     TEXT    NOT NULL,
    external_id TEXT,
    customer_id BLOB REFERENCES customers(id),
    summary     TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER
);
CREATE INDEX interactions_external ON interactions(channel, external_id);

CREATE TABLE case_interactions (
    case_id        BLOB    NOT NULL REFERENCES cases(id),
    interaction_id BLOB    NOT NULL REFERENCES interactions(id),
    linked_at      INTEGER NOT NULL,
    linked_by      TEXT    NOT NULL,
    PRIMARY KEY (case_id, interaction_id)
) WITHOUT ROWID;
CREATE INDEX case_interactions_interaction ON case_interactions(interaction_id);

CREATE TABLE notes (
    id         BLOB PRIMARY KEY,
    case_id    BLOB    NOT NULL REFERENCES cases(id),
    author     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notes_case ON notes(case_id);

CREATE TABLE attachments (
    id           BLOB PRIMARY KEY,
    case_id      BLOB    NOT NULL REFERENCES cases(id),
    file_name    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,  -- content lives in <data dir>/attachments/<sha256>
    added_by     TEXT    NOT NULL,
    added_at     INTEGER NOT NULL
);
CREATE INDEX attachments_case ON attachments(case_id);

-- The event log: one row per change, written with the change.
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY,
    case_id BLOB,
    task_id BLOB,
    actor   TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    before  TEXT    NOT NULL,
    after   TEXT    NOT NULL
);
CREATE INDEX events_case ON events(case_id, seq) WHERE case_id IS NOT NULL;

-- Work for the world outside the transaction (notifications now; webhooks, email later).
-- Consumers read forward from the last id they handled, so no index beyond the key.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    event_seq    INTEGER NOT NULL REFERENCES events(seq),
    topic        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER
);
"#;

/// Workspace-wide settings an admin defines (the customer profile's extra fields first).
const V2: &str = r#"
CREATE TABLE workspace_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,  -- JSON
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL
) WITHOUT ROWID;
"#;

/// Routing: queues, agents and their queue memberships, and what routing keeps on a task.
const V3: &str = r#"
CREATE TABLE queues (
    id         TEXT PRIMARY KEY,
    config     TEXT    NOT NULL,  -- QueueConfig as JSON
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE agents (
    user_id          TEXT PRIMARY KEY REFERENCES users(id),
    presence         TEXT    NOT NULL,
    secondary        TEXT,
    on_queue         INTEGER NOT NULL,
    not_responding   INTEGER NOT NULL,
    routing_status   TEXT    NOT NULL,
    profile          TEXT    NOT NULL,  -- AgentProfile as JSON
    last_assigned_at INTEGER,
    status_since     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE agent_queues (
    queue   TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES agents(user_id),
    PRIMARY KEY (queue, user_id)
) WITHOUT ROWID;

ALTER TABLE tasks ADD COLUMN requirements TEXT NOT NULL DEFAULT '{"skills":{},"language":null}';
ALTER TABLE tasks ADD COLUMN offered_to TEXT REFERENCES users(id);
ALTER TABLE tasks ADD COLUMN offer_expires_at INTEGER;
ALTER TABLE tasks ADD COLUMN preferred_agent TEXT;
ALTER TABLE tasks ADD COLUMN queued_at INTEGER;
UPDATE tasks SET queued_at = created_at WHERE state = 'queued';
CREATE INDEX tasks_offered_to ON tasks(offered_to) WHERE offered_to IS NOT NULL;
-- Each queue's waiting tasks in routing order, so choosing one never scans the queue.
ALTER TABLE tasks ADD COLUMN route_rank INTEGER;
-- Tasks already waiting get the rank of a queue with the default ordering (priority
-- plus wait, 60 minutes a level); defining the queue recomputes it.
UPDATE tasks SET route_rank = (5 - priority) * 3600000 - queued_at WHERE state = 'queued';
CREATE INDEX tasks_waiting ON tasks(queue, route_rank DESC, id) WHERE state = 'queued';
-- When a waiting task's preferred-agent window ends or its next bullseye ring starts.
ALTER TABLE tasks ADD COLUMN reroute_at INTEGER;
CREATE INDEX tasks_reroute ON tasks(reroute_at) WHERE reroute_at IS NOT NULL;

-- Service levels: business calendars, the case SLA clock and each task's OLA clock.
CREATE TABLE calendars (
    id         TEXT PRIMARY KEY,
    definition TEXT    NOT NULL,  -- CalendarDef as JSON
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
ALTER TABLE cases ADD COLUMN sla TEXT;  -- SlaClock as JSON
ALTER TABLE tasks ADD COLUMN ola TEXT;  -- ServiceLevel as JSON
ALTER TABLE tasks ADD COLUMN ola_clock TEXT;  -- SlaClock as JSON
ALTER TABLE tasks ADD COLUMN on_screen_by TEXT;

-- How far each consumer of the outbox (a desk's notifications, later email, webhooks) has read.
CREATE TABLE outbox_cursors (
    consumer TEXT PRIMARY KEY,
    last_id  INTEGER NOT NULL
) WITHOUT ROWID;

-- Each clock reaching an instant is recorded once: at_risk, breached, chain_end.
CREATE TABLE breaches (
    subject_id  BLOB    NOT NULL,  -- a case or a task
    clock       TEXT    NOT NULL,  -- 'sla' or 'ola'
    kind        TEXT    NOT NULL,
    due_at      INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, clock, kind)
) WITHOUT ROWID;
"#;

/// Notifications beyond the desk: admin rules, and one delivery row per rule, event and
/// recipient, written with the event (the unique key makes a second one impossible).
const V4: &str = r#"
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;  -- '+' and digits only

CREATE TABLE notification_rules (
    id         TEXT PRIMARY KEY,
    case_type  TEXT,              -- NULL: every case type
    event      TEXT    NOT NULL,  -- NotifyEvent
    rule       TEXT    NOT NULL,  -- NotificationRule as JSON
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX notification_rules_event ON notification_rules(event);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    event_seq       INTEGER NOT NULL REFERENCES events(seq),
    rule_id         TEXT    NOT NULL,
    channel         TEXT    NOT NULL,  -- desktop, email, sms, webhook
    recipient       TEXT    NOT NULL,  -- a user id, an address, a number or a URL
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL,  -- pending, sending, sent, dead, suppressed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claim           TEXT,              -- the worker round sending it, while 'sending'
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    UNIQUE (event_seq, rule_id, recipient)
);
-- What the delivery worker picks up next, without scanning what is done.
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status IN ('pending', 'sending') AND channel != 'desktop';
CREATE INDEX deliveries_desktop ON deliveries(recipient, id) WHERE channel = 'desktop' AND status = 'pending';
"#;

/// Signing in to the hub: password hashes (argon2, made by the hub) and access tokens,
/// kept only as SHA-256 digests so a copy of the database opens no session.
const V5: &str = r#"
CREATE TABLE credentials (
    user_id       TEXT PRIMARY KEY REFERENCES users(id),
    password_hash TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE access_tokens (
    token_digest TEXT PRIMARY KEY,  -- hex SHA-256 of the token
    user_id      TEXT    NOT NULL REFERENCES users(id),
    kind         TEXT    NOT NULL,  -- session or api
    label        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER            -- none for API tokens
) WITHOUT ROWID;
"#;

/// Timed business rules: one row per rule, subject and anchor instant. `fired_at`
/// makes each fire once, also across restarts; a subject whose anchor moves gets a new row.
const V6: &str = r#"
CREATE TABLE rule_timers (
    id         INTEGER PRIMARY KEY,
    rule_key   TEXT    NOT NULL,  -- '<case type>:<rule id>', '*:<rule id>' for workspace rules
    case_id    BLOB    NOT NULL REFERENCES cases(id),
    subject_id BLOB    NOT NULL,  -- the case, or the task the rule is about
    anchor_at  INTEGER NOT NULL,
    due_at     INTEGER NOT NULL,
    fired_at   INTEGER,
    matched    INTEGER,           -- whether the condition held when it fired
    UNIQUE (rule_key, subject_id, anchor_at)
);
CREATE INDEX rule_timers_pending ON rule_timers(due_at) WHERE fired_at IS NULL;
CREATE INDEX rule_timers_case ON rule_timers(case_id);
"#;

/// The real-time board reads only open work: these indexes hold just that, so its cost
/// follows the open cases and tasks, not the history.
const V7: &str = r#"
CREATE INDEX cases_open ON cases(case_type, status) WHERE status_category != 'closed';
CREATE INDEX tasks_open ON tasks(state) WHERE state NOT IN ('completed', 'escalated', 'cancelled');
CREATE INDEX tasks_queued_since ON tasks(queue, queued_at) WHERE state = 'queued';
"#;

/// Reports' projection of the event log: each case's life (`reports::timeline`), kept
/// compact (names as numbers of `report_names`, encoded with postcard) and caught up
/// from the events after `report_lives_cursor.seq` before each report.
const V8: &str = r#"
CREATE TABLE report_names (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE report_lives (
    case_id    BLOB PRIMARY KEY REFERENCES cases(id),
    created_at INTEGER NOT NULL,
    closed_at  INTEGER,
    life       BLOB    NOT NULL
) WITHOUT ROWID;
CREATE TABLE report_lives_cursor (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO report_lives_cursor VALUES (1, 0);
-- Agents' presence and routing-status changes, which reports read for agents' time.
CREATE INDEX events_agents ON events(seq)
    WHERE case_id IS NULL AND kind IN ('agent_presence_changed', 'agent_routing_status_changed');
"#;

/// A workbin lists its offered and held work after the waiting: this index holds just
/// that, so counting and paging it never scans the queue's waiting tasks.
const V9: &str = r#"
CREATE INDEX tasks_held ON tasks(queue, created_at, id)
    WHERE state NOT IN ('queued', 'completed', 'escalated', 'cancelled');
"#;

/// Commands pushed by replicas, in the order of record (gap-free `push_seq`), with what
/// became of each: applied, or a conflict holding the engine's refusal as {code, message}.
const V10: &str = r#"
CREATE TABLE pushed_commands (
    push_seq    INTEGER PRIMARY KEY,
    command_id  BLOB    NOT NULL UNIQUE,
    client_id   TEXT    NOT NULL,
    client_seq  INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    seen_cursor INTEGER NOT NULL,
    hlc_millis  INTEGER NOT NULL,
    hlc_counter INTEGER NOT NULL,
    command     TEXT    NOT NULL,  -- Command as JSON
    conflict    TEXT,              -- ErrorPayload as JSON; NULL when it applied
    UNIQUE (client_id, client_seq)
);
"#;

/// Sync: which rows changed in what order (what a replica pulls after its cursor), this
/// database's own sync state, the commands a desktop made that the hub has not reflected
/// back yet, the reference blocks a hub reserved per client, and conflicts.
const V11: &str = r#"
-- The latest change of each row, numbered in one order (seq). Keys k1..k3 hold the row's
-- primary key ('' where it has fewer columns); a deleted row is a tombstone. Written by
-- triggers (store::changes), so no write can forget it.
CREATE TABLE row_changes (
    tbl     TEXT    NOT NULL,
    k1              NOT NULL,  -- no type: keys keep theirs
    k2              NOT NULL DEFAULT '',
    k3              NOT NULL DEFAULT '',
    seq     INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tbl, k1, k2, k3)
) WITHOUT ROWID;
CREATE UNIQUE INDEX row_changes_seq ON row_changes(seq);

-- This database's side of sync (client id, cursor, epoch, marks); never replicated.
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value      NOT NULL
) WITHOUT ROWID;

-- Commands made on this desktop, kept until the hub has reflected them back (and then
-- kept, so a hub restored from an older backup can be given them again).
CREATE TABLE pending_commands (
    client_seq   INTEGER PRIMARY KEY,
    command_id   BLOB    NOT NULL UNIQUE,
    actor        TEXT    NOT NULL,
    seen_cursor  INTEGER NOT NULL,
    hlc_millis   INTEGER NOT NULL,
    hlc_counter  INTEGER NOT NULL,
    command      TEXT    NOT NULL,  -- Command as JSON
    reference    INTEGER,           -- the number it took from this desktop's block
    made_at      INTEGER NOT NULL,
    push_seq     INTEGER,           -- the hub's order of record, once it has it
    acked_cursor INTEGER,           -- the hub's cursor then: a pull past it reflects it
    conflict     TEXT               -- the hub's refusal, {code, message}
);
CREATE INDEX pending_unreflected ON pending_commands(client_seq) WHERE acked_cursor IS NULL;

-- The hub's record of the reference numbers it reserved for each client.
CREATE TABLE client_reference_blocks (
    prefix    TEXT    NOT NULL,
    first     INTEGER NOT NULL,
    last      INTEGER NOT NULL,
    client_id TEXT    NOT NULL,
    PRIMARY KEY (prefix, first)
) WITHOUT ROWID;

-- Pushed commands that did not apply as made: refused, superseded by an earlier one, or
-- applied over a change their maker had not seen. Both values are kept.
CREATE TABLE conflicts (
    id        BLOB    PRIMARY KEY,  -- the pushed command's id
    push_seq  INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    case_id   BLOB,
    task_id   BLOB,
    kind      TEXT    NOT NULL,     -- refused | superseded | overrode
    code      TEXT    NOT NULL,
    message   TEXT    NOT NULL,
    theirs    TEXT,                 -- what the command brought (JSON)
    ours      TEXT,                 -- what stood when it arrived (JSON)
    command   TEXT    NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX conflicts_actor ON conflicts(actor, at);

-- Published versions stay immutable, except while a desktop sets its rows to the hub's.
DROP TRIGGER case_type_versions_immutable;
DROP TRIGGER case_type_versions_undeletable;
CREATE TRIGGER case_type_versions_immutable BEFORE UPDATE ON case_type_versions
WHEN NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'following_hub')
BEGIN SELECT RAISE(ABORT, 'published case-type versions are immutable'); END;
CREATE TRIGGER case_type_versions_undeletable BEFORE DELETE ON case_type_versions
WHEN NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'following_hub')
BEGIN SELECT RAISE(ABORT, 'published case-type versions are immutable'); END;
"#;

const V12: &str = r#"
-- A hub's sign-in attempts by user name, for its limit per minute: kept in the database,
-- so hub processes over one workspace count them together. Never replicated.
CREATE TABLE sign_in_attempts (
    name_key TEXT    NOT NULL,  -- the user name as typed, lower-cased
    at       INTEGER NOT NULL
);
CREATE INDEX sign_in_attempts_name ON sign_in_attempts(name_key, at);
"#;

const V13: &str = r#"
-- A case's id in an outside system (a CRM), so that system finds and updates its cases.
ALTER TABLE cases ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX cases_external_id ON cases(external_id) WHERE external_id IS NOT NULL;

-- The customer status portal (the hub's): sign-in links sent by email, each used once
-- before it expires, and the sessions they open (digests only). Never replicated.
CREATE TABLE portal_links (
    id          BLOB    PRIMARY KEY,
    customer_id BLOB    NOT NULL REFERENCES customers(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE TABLE portal_sessions (
    session_digest TEXT    PRIMARY KEY,  -- hex SHA-256 of the session cookie
    customer_id    BLOB    NOT NULL REFERENCES customers(id),
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX portal_sessions_expiry ON portal_sessions(expires_at);
-- Keys this workspace keeps to itself (the one that seals portal sign-in links).
CREATE TABLE local_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
"#;

const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13];

pub fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }

    #[test]
    fn latest_version_matches_the_list() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, super::latest_version());
    }
}
