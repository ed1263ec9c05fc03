-- TEST FIXTURE, never part of a release: the one change of the "next release" that the Compose test
-- (deploy/checks/compose_test.sh, step 6) publishes to its own copy of the repository, so that README's
-- upgrade commands, run as written, have a real migration to apply to a database that holds conversations.
CREATE TABLE upgrade_probe (release text NOT NULL);
INSERT INTO upgrade_probe (release) VALUES ('next');
