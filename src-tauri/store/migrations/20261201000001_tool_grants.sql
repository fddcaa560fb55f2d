-- The user's per-tool choice. No row (or a NULL setting) means the default for the tool's
-- risk level, which the policy knows; the row also remembers the first confirmation, for
-- 'ask-first-time'.
CREATE TABLE tool_settings (
    tool                TEXT PRIMARY KEY,
    setting             TEXT CHECK (setting IS NULL OR setting IN ('always-ask', 'ask-first-time', 'allow', 'never')),
    first_confirmed_at  TEXT,
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- What the user granted a tool beyond its fixed capabilities: a capability by its key
-- ('network', 'spawn:any-command', ...) or one of their folders (by absolute path).
CREATE TABLE tool_grants (
    id          INTEGER PRIMARY KEY,
    tool        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('capability', 'folder')),
    value       TEXT    NOT NULL CHECK (length(value) > 0),
    -- folders only: whether the tool may change files there
    write       INTEGER NOT NULL DEFAULT 0 CHECK (write IN (0, 1)),
    granted_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tool, kind, value)
);
CREATE INDEX tool_grants_tool ON tool_grants (tool);

-- Audit: who let each call run and why, and where the request came from.
-- 'policy:read-only', 'policy:setting-allow', 'policy:confirmed-before', 'user:terminal'
ALTER TABLE tool_calls ADD COLUMN approved_by TEXT;
-- the policy's reason ('first-time', 'uses-tool-output', ...) or the denial's message
ALTER TABLE tool_calls ADD COLUMN decision_reason TEXT;
-- 'voice', 'typed' or 'unattended'
ALTER TABLE tool_calls ADD COLUMN origin TEXT CHECK (origin IS NULL OR origin IN ('voice', 'typed', 'unattended'));
-- 1 when an argument was filled in from an earlier step's output
ALTER TABLE tool_calls ADD COLUMN uses_tool_output INTEGER CHECK (uses_tool_output IS NULL OR uses_tool_output IN (0, 1));
