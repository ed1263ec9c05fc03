-- API keys entered on the settings page, encrypted with AES-256-GCM (backend/src/secrets.rs).
-- Only the nonce and the ciphertext are stored; the key is POCKET_DEV_SECRET_KEY or its key file.
CREATE TABLE secrets (
    name       text PRIMARY KEY,
    nonce      bytea NOT NULL,
    ciphertext bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
