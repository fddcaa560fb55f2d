-- One row per thing the user said or typed. Rows are never rewritten except to fill in
-- later stages (transcript, status); deleting is the user's explicit act.
CREATE TABLE utterances (
    id            INTEGER PRIMARY KEY,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- 'voice' or 'typed'
    input         TEXT    NOT NULL CHECK (input IN ('voice', 'typed')),
    -- WAV file of the recording, relative to the recordings directory; NULL for typed input
    audio_path    TEXT,
    audio_ms      INTEGER CHECK (audio_ms IS NULL OR audio_ms >= 0),
    transcript    TEXT,
    language      TEXT,
    asr_model     TEXT,
    -- stage name -> milliseconds since end of speech, as a JSON object
    timings       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(timings)),
    -- 'recorded' -> 'transcribed' -> 'planned' -> 'done' | 'failed' | 'cancelled'
    status        TEXT    NOT NULL DEFAULT 'recorded',
    error         TEXT
);
CREATE INDEX utterances_created_at ON utterances (created_at);

-- A plan the planner (or the fast path) produced for an utterance.
CREATE TABLE plans (
    id                INTEGER PRIMARY KEY,
    utterance_id      INTEGER NOT NULL REFERENCES utterances (id) ON DELETE CASCADE,
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- model id, or 'fast-path'
    planner           TEXT    NOT NULL,
    -- the plan exactly as generated, for debugging and for learning templates
    text              TEXT    NOT NULL,
    -- number of steps the plan has; lets readers check they see all of its calls
    step_count        INTEGER NOT NULL CHECK (step_count >= 0),
    prompt_tokens     INTEGER,
    generated_tokens  INTEGER,
    duration_ms       INTEGER,
    error             TEXT
);
CREATE INDEX plans_utterance ON plans (utterance_id);

-- One row per step of a plan: what was asked, what the policy decided, what happened.
CREATE TABLE tool_calls (
    id            INTEGER PRIMARY KEY,
    plan_id       INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    step          INTEGER NOT NULL CHECK (step >= 1),
    tool          TEXT    NOT NULL,
    arguments     TEXT    NOT NULL CHECK (json_valid(arguments)),
    -- step numbers this call waited for, as a JSON array
    depends_on    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(depends_on)),
    -- 'pending', 'allowed' (by policy), 'confirmed' (by the user), 'denied', 'invalid'
    decision      TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (decision IN ('pending', 'allowed', 'confirmed', 'denied', 'invalid')),
    result        TEXT    CHECK (result IS NULL OR json_valid(result)),
    error         TEXT,
    started_at    TEXT,
    finished_at   TEXT,
    duration_ms   INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
    UNIQUE (plan_id, step)
);

-- Every model install, verification and removal, for the settings window and for support.
CREATE TABLE model_events (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    model_id    TEXT    NOT NULL,
    -- 'installed', 'verified', 'corrupt', 'removed', 'failed'
    event       TEXT    NOT NULL
                CHECK (event IN ('installed', 'verified', 'corrupt', 'removed', 'failed')),
    -- the source that was used, as the catalog describes it
    source      TEXT,
    sha256      TEXT,
    bytes       INTEGER,
    duration_ms INTEGER,
    detail      TEXT
);
CREATE INDEX model_events_model ON model_events (model_id, at);
