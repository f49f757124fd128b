-- Points for completing a paid-content course (issue 14): a shop's reward,
-- given once per member and course (0 = none).

ALTER TABLE points_settings ADD COLUMN course_points BIGINT NOT NULL DEFAULT 0;
