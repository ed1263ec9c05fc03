-- Full-text search over messages: the projector fills `search` from a message's text and thinking
-- blocks (`to_tsvector('simple', …)`: no stemming, any language); `GET /api/search` queries it.
ALTER TABLE conversation_messages ADD COLUMN search tsvector;

UPDATE conversation_messages m SET search = to_tsvector('simple', coalesce((
    SELECT string_agg(b ->> 'text', ' ') FROM jsonb_array_elements(m.payload -> 'blocks') AS b
    WHERE b ->> 'type' IN ('text', 'thinking')), ''));

CREATE INDEX conversation_messages_search ON conversation_messages USING gin (search);
