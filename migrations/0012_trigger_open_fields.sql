-- Trigger URLs lock the fields their template sets (issue 23, finding 5). A hit fills the
-- template's {{placeholders}} and may set only the call fields listed in open_fields (a JSON array;
-- '[]' locks every field). Triggers made before this migration keep their behaviour — a hit may set
-- any call field — marked by open_fields NULL ("open": true in the API, "open" in the console)
-- until they are edited (PATCH /v1/triggers/{id}, or the console's Lock).
ALTER TABLE triggers ADD COLUMN open_fields TEXT;
