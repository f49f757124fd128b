-- A product whose text matched a review rule stays off the shelf until
-- the moderation queue approves it.
ALTER TABLE spus ADD COLUMN review_hold BOOLEAN NOT NULL DEFAULT FALSE;
