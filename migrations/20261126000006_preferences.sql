-- User preferences set on the settings page, e.g. `chat_defaults` (backend/src/preferences.rs).
CREATE TABLE preferences (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
