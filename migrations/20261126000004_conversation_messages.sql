-- The view's messages, one row per message, so that a commit rewrites only the turn it touches
-- instead of the whole conversation. `conversation_views.payload` keeps the header (messages: []).
CREATE TABLE conversation_messages (
    conversation_id text NOT NULL,
    turn            integer NOT NULL,
    position        smallint NOT NULL, -- 0 = the user's prompt, 1 = the assistant's reply
    payload         jsonb NOT NULL,
    PRIMARY KEY (conversation_id, turn, position)
);

-- Views written before this migration carry their messages inline: move them out.
INSERT INTO conversation_messages (conversation_id, turn, position, payload)
SELECT v.id, (m.value ->> 'turn')::integer, CASE WHEN m.value ->> 'role' = 'user' THEN 0 ELSE 1 END, m.value
FROM conversation_views v, jsonb_array_elements(v.payload -> 'messages') AS m
ON CONFLICT DO NOTHING;
UPDATE conversation_views SET payload = jsonb_set(payload, '{messages}', '[]'::jsonb);
