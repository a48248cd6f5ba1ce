-- The schema on PostgreSQL, at the SQLite schema's version 11 (store/migrations.rs).
-- Each table has the columns of its SQLite form, in the same order and with the same
-- cells: ids are BYTEA (a uuid's 16 bytes), booleans and instants BIGINT, JSON the TEXT
-- written, and text compares byte-wise (COLLATE "C"), as in SQLite. A later SQLite
-- migration gets its PostgreSQL form beside it; `store/postgres.rs` checks the two
-- lists are as long.

CREATE TABLE case_type_versions (
    case_type    TEXT COLLATE "C"    NOT NULL,
    version      BIGINT NOT NULL,
    name         TEXT COLLATE "C"    NOT NULL,
    definition   TEXT COLLATE "C"    NOT NULL,  -- CaseTypeDef as JSON
    source       TEXT COLLATE "C"    NOT NULL,  -- the TOML as published
    source_hash  TEXT COLLATE "C"    NOT NULL,
    published_at BIGINT NOT NULL,
    published_by TEXT COLLATE "C"    NOT NULL,
    PRIMARY KEY (case_type, version)
);
CREATE TABLE users (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    roles      TEXT COLLATE "C" NOT NULL,  -- JSON array
    teams      TEXT COLLATE "C" NOT NULL,  -- JSON array
    created_at BIGINT NOT NULL
, email TEXT COLLATE "C", phone TEXT COLLATE "C");
CREATE TABLE customers (
    id          BYTEA PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL,
    name_key    TEXT COLLATE "C" NOT NULL,  -- lower-cased, for search
    email       TEXT COLLATE "C",
    phone       TEXT COLLATE "C",           -- '+' and digits only
    external_id TEXT COLLATE "C" UNIQUE,
    extra       TEXT COLLATE "C" NOT NULL,  -- JSON object of configured extra fields
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX customers_name ON customers(name_key);
CREATE INDEX customers_email ON customers(lower(email));
CREATE INDEX customers_phone ON customers(phone);
CREATE TABLE reference_sequences (
    prefix TEXT COLLATE "C" PRIMARY KEY,
    next   BIGINT NOT NULL
);
CREATE TABLE reference_blocks (
    prefix TEXT COLLATE "C"    NOT NULL,
    first  BIGINT NOT NULL,
    last   BIGINT NOT NULL,
    next   BIGINT NOT NULL,
    PRIMARY KEY (prefix, first),
    CHECK (first <= next AND next <= last + 1)
);
CREATE TABLE cases (
    id              BYTEA PRIMARY KEY,
    reference       TEXT COLLATE "C"    NOT NULL UNIQUE,
    case_type       TEXT COLLATE "C"    NOT NULL,
    type_version    BIGINT NOT NULL,
    status          TEXT COLLATE "C"    NOT NULL,
    status_category TEXT COLLATE "C"    NOT NULL,
    stage           TEXT COLLATE "C",
    priority        BIGINT NOT NULL CHECK (priority BETWEEN 1 AND 5),
    owner           TEXT COLLATE "C" REFERENCES users(id),
    customer_id     BYTEA REFERENCES customers(id),
    intent          TEXT COLLATE "C",
    subject         TEXT COLLATE "C"    NOT NULL,
    description     TEXT COLLATE "C"    NOT NULL,
    fields          TEXT COLLATE "C"    NOT NULL,  -- JSON object
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    closed_at       BIGINT, sla TEXT COLLATE "C",
    FOREIGN KEY (case_type, type_version) REFERENCES case_type_versions(case_type, version)
);
CREATE INDEX cases_customer ON cases(customer_id);
CREATE TABLE tasks (
    id               BYTEA PRIMARY KEY,
    case_id          BYTEA    NOT NULL REFERENCES cases(id),
    stage            TEXT COLLATE "C"    NOT NULL,
    step             TEXT COLLATE "C"    NOT NULL,
    name             TEXT COLLATE "C"    NOT NULL,
    kind             TEXT COLLATE "C"    NOT NULL,
    state            TEXT COLLATE "C"    NOT NULL,
    queue            TEXT COLLATE "C",
    assignee         TEXT COLLATE "C" REFERENCES users(id),
    priority         BIGINT NOT NULL CHECK (priority BETWEEN 1 AND 5),
    escalation_level BIGINT NOT NULL DEFAULT 0,
    outcome          TEXT COLLATE "C",
    form_values      TEXT COLLATE "C"    NOT NULL,
    reason           TEXT COLLATE "C",
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    completed_at     BIGINT
, requirements TEXT COLLATE "C" NOT NULL DEFAULT '{"skills":{},"language":null}', offered_to TEXT COLLATE "C" REFERENCES users(id), offer_expires_at BIGINT, preferred_agent TEXT COLLATE "C", queued_at BIGINT, route_rank BIGINT, reroute_at BIGINT, ola TEXT COLLATE "C", ola_clock TEXT COLLATE "C", on_screen_by TEXT COLLATE "C");
CREATE INDEX tasks_case ON tasks(case_id);
CREATE INDEX tasks_assignee ON tasks(assignee, state) WHERE assignee IS NOT NULL;
CREATE TABLE interactions (
    id          BYTEA PRIMARY KEY,
    channel     TEXT COLLATE "C"    NOT NULL,
    external_id TEXT COLLATE "C",
    customer_id BYTEA REFERENCES customers(id),
    summary     TEXT COLLATE "C"    NOT NULL,
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT
);
CREATE INDEX interactions_external ON interactions(channel, external_id);
CREATE TABLE case_interactions (
    case_id        BYTEA    NOT NULL REFERENCES cases(id),
    interaction_id BYTEA    NOT NULL REFERENCES interactions(id),
    linked_at      BIGINT NOT NULL,
    linked_by      TEXT COLLATE "C"    NOT NULL,
    PRIMARY KEY (case_id, interaction_id)
);
CREATE INDEX case_interactions_interaction ON case_interactions(interaction_id);
CREATE TABLE notes (
    id         BYTEA PRIMARY KEY,
    case_id    BYTEA    NOT NULL REFERENCES cases(id),
    author     TEXT COLLATE "C"    NOT NULL,
    body       TEXT COLLATE "C"    NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notes_case ON notes(case_id);
CREATE TABLE attachments (
    id           BYTEA PRIMARY KEY,
    case_id      BYTEA    NOT NULL REFERENCES cases(id),
    file_name    TEXT COLLATE "C"    NOT NULL,
    content_type TEXT COLLATE "C"    NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT COLLATE "C"    NOT NULL,  -- content lives in <data dir>/attachments/<sha256>
    added_by     TEXT COLLATE "C"    NOT NULL,
    added_at     BIGINT NOT NULL
);
CREATE INDEX attachments_case ON attachments(case_id);
CREATE TABLE events (
    seq     BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    case_id BYTEA,
    task_id BYTEA,
    actor   TEXT COLLATE "C"    NOT NULL,
    at      BIGINT NOT NULL,
    kind    TEXT COLLATE "C"    NOT NULL,
    before  TEXT COLLATE "C"    NOT NULL,
    after   TEXT COLLATE "C"    NOT NULL
);
CREATE INDEX events_case ON events(case_id, seq) WHERE case_id IS NOT NULL;
CREATE TABLE outbox (
    id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    event_seq    BIGINT NOT NULL REFERENCES events(seq),
    topic        TEXT COLLATE "C"    NOT NULL,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE TABLE workspace_settings (
    key        TEXT COLLATE "C" PRIMARY KEY,
    value      TEXT COLLATE "C"    NOT NULL,  -- JSON
    updated_at BIGINT NOT NULL,
    updated_by TEXT COLLATE "C"    NOT NULL
);
CREATE TABLE queues (
    id         TEXT COLLATE "C" PRIMARY KEY,
    config     TEXT COLLATE "C"    NOT NULL,  -- QueueConfig as JSON
    updated_at BIGINT NOT NULL
);
CREATE TABLE agents (
    user_id          TEXT COLLATE "C" PRIMARY KEY REFERENCES users(id),
    presence         TEXT COLLATE "C"    NOT NULL,
    secondary        TEXT COLLATE "C",
    on_queue         BIGINT NOT NULL,
    not_responding   BIGINT NOT NULL,
    routing_status   TEXT COLLATE "C"    NOT NULL,
    profile          TEXT COLLATE "C"    NOT NULL,  -- AgentProfile as JSON
    last_assigned_at BIGINT,
    status_since     BIGINT NOT NULL
);
CREATE TABLE agent_queues (
    queue   TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES agents(user_id),
    PRIMARY KEY (queue, user_id)
);
CREATE INDEX tasks_offered_to ON tasks(offered_to) WHERE offered_to IS NOT NULL;
CREATE INDEX tasks_waiting ON tasks(queue, route_rank DESC, id) WHERE state = 'queued';
CREATE INDEX tasks_reroute ON tasks(reroute_at) WHERE reroute_at IS NOT NULL;
CREATE TABLE calendars (
    id         TEXT COLLATE "C" PRIMARY KEY,
    definition TEXT COLLATE "C"    NOT NULL,  -- CalendarDef as JSON
    updated_at BIGINT NOT NULL
);
CREATE TABLE outbox_cursors (
    consumer TEXT COLLATE "C" PRIMARY KEY,
    last_id  BIGINT NOT NULL
);
CREATE TABLE breaches (
    subject_id  BYTEA    NOT NULL,  -- a case or a task
    clock       TEXT COLLATE "C"    NOT NULL,  -- 'sla' or 'ola'
    kind        TEXT COLLATE "C"    NOT NULL,
    due_at      BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, clock, kind)
);
CREATE TABLE notification_rules (
    id         TEXT COLLATE "C" PRIMARY KEY,
    case_type  TEXT COLLATE "C",              -- NULL: every case type
    event      TEXT COLLATE "C"    NOT NULL,  -- NotifyEvent
    rule       TEXT COLLATE "C"    NOT NULL,  -- NotificationRule as JSON
    updated_at BIGINT NOT NULL
);
CREATE INDEX notification_rules_event ON notification_rules(event);
CREATE TABLE deliveries (
    id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    event_seq       BIGINT NOT NULL REFERENCES events(seq),
    rule_id         TEXT COLLATE "C"    NOT NULL,
    channel         TEXT COLLATE "C"    NOT NULL,  -- desktop, email, sms, webhook
    recipient       TEXT COLLATE "C"    NOT NULL,  -- a user id, an address, a number or a URL
    subject         TEXT COLLATE "C"    NOT NULL,
    body            TEXT COLLATE "C"    NOT NULL,
    status          TEXT COLLATE "C"    NOT NULL,  -- pending, sending, sent, dead, suppressed
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claim           TEXT COLLATE "C",              -- the worker round sending it, while 'sending'
    last_error      TEXT COLLATE "C",
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    UNIQUE (event_seq, rule_id, recipient)
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status IN ('pending', 'sending') AND channel != 'desktop';
CREATE INDEX deliveries_desktop ON deliveries(recipient, id) WHERE channel = 'desktop' AND status = 'pending';
CREATE TABLE credentials (
    user_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES users(id),
    password_hash TEXT COLLATE "C"    NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE TABLE access_tokens (
    token_digest TEXT COLLATE "C" PRIMARY KEY,  -- hex SHA-256 of the token
    user_id      TEXT COLLATE "C"    NOT NULL REFERENCES users(id),
    kind         TEXT COLLATE "C"    NOT NULL,  -- session or api
    label        TEXT COLLATE "C"    NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT            -- none for API tokens
);
CREATE TABLE rule_timers (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    rule_key   TEXT COLLATE "C"    NOT NULL,  -- '<case type>:<rule id>', '*:<rule id>' for workspace rules
    case_id    BYTEA    NOT NULL REFERENCES cases(id),
    subject_id BYTEA    NOT NULL,  -- the case, or the task the rule is about
    anchor_at  BIGINT NOT NULL,
    due_at     BIGINT NOT NULL,
    fired_at   BIGINT,
    matched    BIGINT,           -- whether the condition held when it fired
    UNIQUE (rule_key, subject_id, anchor_at)
);
CREATE INDEX rule_timers_pending ON rule_timers(due_at) WHERE fired_at IS NULL;
CREATE INDEX rule_timers_case ON rule_timers(case_id);
CREATE INDEX cases_open ON cases(case_type, status) WHERE status_category != 'closed';
CREATE INDEX tasks_open ON tasks(state) WHERE state NOT IN ('completed', 'escalated', 'cancelled');
CREATE INDEX tasks_queued_since ON tasks(queue, queued_at) WHERE state = 'queued';
CREATE TABLE report_names (
    id   BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE
);
CREATE TABLE report_lives (
    case_id    BYTEA PRIMARY KEY REFERENCES cases(id),
    created_at BIGINT NOT NULL,
    closed_at  BIGINT,
    life       BYTEA    NOT NULL
);
CREATE TABLE report_lives_cursor (
    id  BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
CREATE INDEX events_agents ON events(seq)
    WHERE case_id IS NULL AND kind IN ('agent_presence_changed', 'agent_routing_status_changed');
CREATE INDEX tasks_held ON tasks(queue, created_at, id)
    WHERE state NOT IN ('queued', 'completed', 'escalated', 'cancelled');
CREATE TABLE pushed_commands (
    push_seq    BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    command_id  BYTEA    NOT NULL UNIQUE,
    client_id   TEXT COLLATE "C"    NOT NULL,
    client_seq  BIGINT NOT NULL,
    actor       TEXT COLLATE "C"    NOT NULL,
    seen_cursor BIGINT NOT NULL,
    hlc_millis  BIGINT NOT NULL,
    hlc_counter BIGINT NOT NULL,
    command     TEXT COLLATE "C"    NOT NULL,  -- Command as JSON
    conflict    TEXT COLLATE "C",              -- ErrorPayload as JSON; NULL when it applied
    UNIQUE (client_id, client_seq)
);
CREATE TABLE row_changes (
    tbl     TEXT COLLATE "C"    NOT NULL,
    k1              TEXT COLLATE "C" NOT NULL,  -- the key as text (bytea as \x hex)
    k2              TEXT COLLATE "C" NOT NULL DEFAULT '',
    k3              TEXT COLLATE "C" NOT NULL DEFAULT '',
    seq     BIGINT NOT NULL,
    deleted BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tbl, k1, k2, k3)
);
CREATE UNIQUE INDEX row_changes_seq ON row_changes(seq);
CREATE TABLE sync_state (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value      TEXT COLLATE "C" NOT NULL
);
CREATE TABLE pending_commands (
    client_seq   BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    command_id   BYTEA    NOT NULL UNIQUE,
    actor        TEXT COLLATE "C"    NOT NULL,
    seen_cursor  BIGINT NOT NULL,
    hlc_millis   BIGINT NOT NULL,
    hlc_counter  BIGINT NOT NULL,
    command      TEXT COLLATE "C"    NOT NULL,  -- Command as JSON
    reference    BIGINT,           -- the number it took from this desktop's block
    made_at      BIGINT NOT NULL,
    push_seq     BIGINT,           -- the hub's order of record, once it has it
    acked_cursor BIGINT,           -- the hub's cursor then: a pull past it reflects it
    conflict     TEXT COLLATE "C"               -- the hub's refusal, {code, message}
);
CREATE INDEX pending_unreflected ON pending_commands(client_seq) WHERE acked_cursor IS NULL;
CREATE TABLE client_reference_blocks (
    prefix    TEXT COLLATE "C"    NOT NULL,
    first     BIGINT NOT NULL,
    last      BIGINT NOT NULL,
    client_id TEXT COLLATE "C"    NOT NULL,
    PRIMARY KEY (prefix, first)
);
CREATE TABLE conflicts (
    id        BYTEA    PRIMARY KEY,  -- the pushed command's id
    push_seq  BIGINT NOT NULL,
    actor     TEXT COLLATE "C"    NOT NULL,
    case_id   BYTEA,
    task_id   BYTEA,
    kind      TEXT COLLATE "C"    NOT NULL,     -- refused | superseded | overrode
    code      TEXT COLLATE "C"    NOT NULL,
    message   TEXT COLLATE "C"    NOT NULL,
    theirs    TEXT COLLATE "C",                 -- what the command brought (JSON)
    ours      TEXT COLLATE "C",                 -- what stood when it arrived (JSON)
    command   TEXT COLLATE "C"    NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX conflicts_actor ON conflicts(actor, at);

INSERT INTO report_lives_cursor VALUES (1, 0);

-- Published versions are immutable, except while rows are set to a hub's.
CREATE FUNCTION casedesk_published_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'following_hub') THEN
        RAISE EXCEPTION 'published case-type versions are immutable';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER case_type_versions_immutable BEFORE UPDATE OR DELETE ON case_type_versions
    FOR EACH ROW EXECUTE FUNCTION casedesk_published_is_immutable();

-- Change capture (store/changes.rs): a row's latest change in row_changes, numbered
-- max + 1 under the workspace's writer lock. TG_ARGV names the key columns.
CREATE FUNCTION casedesk_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n jsonb;
    o jsonb;
    nk text[] := ARRAY['', '', ''];
    ok text[] := ARRAY['', '', ''];
BEGIN
    IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
    IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
    FOR i IN 0 .. TG_NARGS - 1 LOOP
        IF n IS NOT NULL THEN nk[i + 1] := n ->> TG_ARGV[i]; END IF;
        IF o IS NOT NULL THEN ok[i + 1] := o ->> TG_ARGV[i]; END IF;
    END LOOP;
    IF o IS NOT NULL AND (n IS NULL OR ok IS DISTINCT FROM nk) THEN
        INSERT INTO row_changes (tbl, k1, k2, k3, seq, deleted)
        VALUES (TG_TABLE_NAME, ok[1], ok[2], ok[3], (SELECT coalesce(max(seq), 0) + 1 FROM row_changes), 1)
        ON CONFLICT (tbl, k1, k2, k3) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted;
    END IF;
    IF n IS NOT NULL THEN
        INSERT INTO row_changes (tbl, k1, k2, k3, seq, deleted)
        VALUES (TG_TABLE_NAME, nk[1], nk[2], nk[3], (SELECT coalesce(max(seq), 0) + 1 FROM row_changes), 0)
        ON CONFLICT (tbl, k1, k2, k3) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted;
    END IF;
    RETURN NULL;
END $$;
