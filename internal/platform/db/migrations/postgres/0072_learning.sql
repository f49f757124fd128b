-- Learning (issue 13 points 5 and 7): progress per member and lesson,
-- course completions with their certificates, and comments and questions
-- on lessons. Lessons and courses belong to internal/content; their ids are
-- kept here without foreign keys so the rooms can be merged in any order.

-- A member's progress in one lesson: the last position and the furthest
-- (only moves forward) for audio and video, the read flag for articles.
-- completed_at is set once, by the write that reaches 90 % (or reads).
CREATE TABLE learning_progress (
    shop_id      BIGINT NOT NULL REFERENCES shops(id),
    member_id    BIGINT NOT NULL REFERENCES members(id),
    lesson_id    BIGINT NOT NULL,
    course_id    BIGINT NOT NULL,
    position_sec BIGINT NOT NULL DEFAULT 0 CHECK (position_sec >= 0),
    furthest_sec BIGINT NOT NULL DEFAULT 0 CHECK (furthest_sec >= 0),
    is_read      BOOLEAN NOT NULL DEFAULT FALSE,
    completed_at BIGINT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (shop_id, member_id, lesson_id)
);
CREATE INDEX learning_progress_course ON learning_progress (shop_id, course_id, member_id);

-- A member in a course: the lesson touched last ("continue where you left
-- off"). Every progress write upserts this row first, which serialises the
-- writes of one member in one course, so the one that reaches 100 % sees
-- the others' lessons.
CREATE TABLE learning_courses (
    shop_id        BIGINT NOT NULL REFERENCES shops(id),
    member_id      BIGINT NOT NULL REFERENCES members(id),
    course_id      BIGINT NOT NULL,
    last_lesson_id BIGINT NOT NULL,
    last_at        BIGINT NOT NULL,
    PRIMARY KEY (shop_id, member_id, course_id)
);
CREATE INDEX learning_courses_recent ON learning_courses (shop_id, member_id, last_at);
CREATE INDEX learning_courses_course ON learning_courses (shop_id, course_id, last_at);

-- A course completed: one row per member and course, ever (the completion
-- hook fires with its insert), carrying the certificate's code and the
-- learner's name as it was then.
CREATE TABLE learning_certificates (
    id BIGSERIAL PRIMARY KEY,
    shop_id      BIGINT NOT NULL REFERENCES shops(id),
    member_id    BIGINT NOT NULL REFERENCES members(id),
    course_id    BIGINT NOT NULL,
    code         TEXT    NOT NULL UNIQUE,
    learner_name TEXT    NOT NULL,
    completed_at BIGINT NOT NULL,
    UNIQUE (shop_id, member_id, course_id)
);

-- Comments and questions on lessons, and replies to them (parent_id: the
-- top-level post; replies are never nested deeper). A learner's text is
-- pending until moderation publishes it; staff replies are the teacher's.
CREATE TABLE qa_posts (
    id BIGSERIAL PRIMARY KEY,
    shop_id            BIGINT NOT NULL REFERENCES shops(id),
    lesson_id          BIGINT NOT NULL,
    course_id          BIGINT NOT NULL,
    parent_id          BIGINT REFERENCES qa_posts(id),
    kind               TEXT    NOT NULL CHECK (kind IN ('comment', 'question', 'reply')),
    member_id          BIGINT REFERENCES members(id),
    staff_id           BIGINT,
    teacher            BOOLEAN NOT NULL DEFAULT FALSE,
    body               TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('published', 'pending', 'hidden')),
    moderation_item_id BIGINT,
    pinned_at          BIGINT,
    likes              BIGINT NOT NULL DEFAULT 0 CHECK (likes >= 0),
    answered_at        BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX qa_posts_lesson ON qa_posts (shop_id, lesson_id, parent_id);
CREATE INDEX qa_posts_parent ON qa_posts (shop_id, parent_id);
CREATE INDEX qa_posts_unanswered ON qa_posts (shop_id, kind, answered_at, id);
CREATE INDEX qa_posts_moderation ON qa_posts (shop_id, moderation_item_id);

-- One like per member and post; the post's count moves only with an
-- insert or delete here.
CREATE TABLE qa_likes (
    shop_id    BIGINT NOT NULL REFERENCES shops(id),
    post_id    BIGINT NOT NULL REFERENCES qa_posts(id),
    member_id  BIGINT NOT NULL REFERENCES members(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (shop_id, post_id, member_id)
);
