-- Installed WASM plugins. The component file itself lives in Sotto's data folder; the row pins
-- its SHA-256, so a file changed behind Sotto's back is refused until the user reviews it
-- (`sotto plugins update`).
CREATE TABLE plugins (
    id            TEXT PRIMARY KEY,
    name          TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    api_version   TEXT    NOT NULL,
    -- where it was installed from (a file), for `update`
    source        TEXT    NOT NULL,
    sha256        TEXT    NOT NULL CHECK (length(sha256) = 64),
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    installed_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- The tools each plugin offers. A tool name belongs to one plugin at most.
CREATE TABLE plugin_tools (
    tool    TEXT PRIMARY KEY,
    plugin  TEXT NOT NULL REFERENCES plugins (id) ON DELETE CASCADE
);
CREATE INDEX plugin_tools_plugin ON plugin_tools (plugin);
