-- Projections, rebuilt from the event log by `pocket-dev replay`.
CREATE TABLE conversation_views (
    id       text PRIMARY KEY,
    last_seq bigint NOT NULL,
    payload  jsonb NOT NULL
);

CREATE TABLE conversation_list (
    id         text PRIMARY KEY,
    title      text NOT NULL,
    status     text NOT NULL,
    provider   text NOT NULL,
    model      text NOT NULL,
    archived   boolean NOT NULL,
    updated_at timestamptz NOT NULL,
    last_seq   bigint NOT NULL
);
CREATE INDEX conversation_list_recent ON conversation_list (archived, updated_at DESC, id DESC);
